CREATE TABLE "Employee" ("EmployeeId" INTEGER PRIMARY KEY, "LastName" NVARCHAR(20) NOT NULL, "FirstName" NVARCHAR(20) NOT NULL, "Title" NVARCHAR(30),
  "ReportsTo" INTEGER REFERENCES "Employee" ("EmployeeId"), "Email" NVARCHAR(60));
CREATE TABLE "Customer" ("CustomerId" INTEGER PRIMARY KEY, "FirstName" NVARCHAR(40) NOT NULL, "LastName" NVARCHAR(20) NOT NULL, "Company" NVARCHAR(80),
  "Email" NVARCHAR(60) NOT NULL, "Phone" NVARCHAR(24), "SupportRepId" INTEGER REFERENCES "Employee" ("EmployeeId"));
CREATE TABLE "Invoice" ("InvoiceId" INTEGER PRIMARY KEY, "CustomerId" INTEGER NOT NULL REFERENCES "Customer" ("CustomerId"), "InvoiceDate" DATETIME NOT NULL,
  "BillingAddress" NVARCHAR(70), "Total" NUMERIC(10,2) NOT NULL);
CREATE TABLE "InvoiceLine" ("InvoiceLineId" INTEGER PRIMARY KEY, "InvoiceId" INTEGER NOT NULL REFERENCES "Invoice" ("InvoiceId"), "TrackId" INTEGER NOT NULL,
  "UnitPrice" NUMERIC(10,2) NOT NULL, "Quantity" INTEGER NOT NULL);
CREATE INDEX "IFK_CustomerSupportRepId" ON "Customer" ("SupportRepId");
CREATE INDEX "IFK_EmployeeReportsTo" ON "Employee" ("ReportsTo");
