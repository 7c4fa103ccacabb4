CREATE TABLE "Employee" ("EmployeeId" integer PRIMARY KEY, "LastName" varchar(20) NOT NULL, "FirstName" varchar(20) NOT NULL, "Title" varchar(30),
  "ReportsTo" integer REFERENCES "Employee" ("EmployeeId"), "Email" varchar(60));
CREATE TABLE "Customer" ("CustomerId" integer PRIMARY KEY, "FirstName" varchar(40) NOT NULL, "LastName" varchar(20) NOT NULL, "Company" varchar(80),
  "Email" varchar(60) NOT NULL, "Phone" varchar(24), "SupportRepId" integer REFERENCES "Employee" ("EmployeeId"));
CREATE TABLE "Invoice" ("InvoiceId" integer PRIMARY KEY, "CustomerId" integer NOT NULL REFERENCES "Customer" ("CustomerId"), "InvoiceDate" timestamp NOT NULL,
  "BillingAddress" varchar(70), "Total" numeric(10,2) NOT NULL);
CREATE TABLE "InvoiceLine" ("InvoiceLineId" integer PRIMARY KEY, "InvoiceId" integer NOT NULL REFERENCES "Invoice" ("InvoiceId"), "TrackId" integer NOT NULL,
  "UnitPrice" numeric(10,2) NOT NULL, "Quantity" integer NOT NULL);
CREATE INDEX "IFK_CustomerSupportRepId" ON "Customer" ("SupportRepId");
CREATE INDEX "IFK_EmployeeReportsTo" ON "Employee" ("ReportsTo");
CREATE INDEX "IFK_InvoiceCustomerId" ON "Invoice" ("CustomerId");
CREATE INDEX "IFK_InvoiceLineInvoiceId" ON "InvoiceLine" ("InvoiceId");
