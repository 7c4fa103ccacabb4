-- musicstore.sqlite.sql on PostgreSQL, with quoted mixed-case names.
CREATE TABLE "Employee" ("EmployeeId" integer PRIMARY KEY, "LastName" varchar(20) NOT NULL, "FirstName" varchar(20) NOT NULL, "Title" varchar(30),
  "ReportsTo" integer REFERENCES "Employee" ("EmployeeId"), "BirthDate" timestamp, "HireDate" timestamp, "Address" varchar(70), "City" varchar(40),
  "Country" varchar(40), "PostalCode" varchar(10), "Phone" varchar(24), "Email" varchar(60));
CREATE TABLE "Customer" ("CustomerId" integer PRIMARY KEY, "FirstName" varchar(40) NOT NULL, "LastName" varchar(20) NOT NULL, "Company" varchar(80),
  "Address" varchar(70), "City" varchar(40), "Country" varchar(40), "PostalCode" varchar(10), "Phone" varchar(24), "Email" varchar(60) NOT NULL,
  "SupportRepId" integer REFERENCES "Employee" ("EmployeeId") ON DELETE SET NULL);
CREATE TABLE "Track" ("TrackId" integer PRIMARY KEY, "Name" varchar(200) NOT NULL, "Composer" varchar(220), "Milliseconds" integer NOT NULL, "UnitPrice" numeric(10,2) NOT NULL);
CREATE TABLE "Invoice" ("InvoiceId" integer PRIMARY KEY, "CustomerId" integer NOT NULL REFERENCES "Customer" ("CustomerId"),
  "InvoiceDate" timestamp NOT NULL, "BillingAddress" varchar(70), "BillingCity" varchar(40), "BillingCountry" varchar(40), "BillingPostalCode" varchar(10), "Total" numeric(10,2) NOT NULL);
CREATE TABLE "InvoiceLine" ("InvoiceLineId" integer PRIMARY KEY, "InvoiceId" integer NOT NULL REFERENCES "Invoice" ("InvoiceId") ON DELETE CASCADE,
  "TrackId" integer NOT NULL REFERENCES "Track" ("TrackId"), "UnitPrice" numeric(10,2) NOT NULL, "Quantity" integer NOT NULL);
