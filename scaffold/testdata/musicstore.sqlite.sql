-- A music store (after Chinook), names in mixed case: Customer.SupportRepId
-- references Employee.EmployeeId.
CREATE TABLE Employee (EmployeeId INTEGER PRIMARY KEY, LastName TEXT NOT NULL, FirstName TEXT NOT NULL, Title TEXT,
  ReportsTo INTEGER REFERENCES Employee (EmployeeId), BirthDate TIMESTAMP, HireDate TIMESTAMP, Address TEXT, City TEXT,
  Country TEXT, PostalCode TEXT, Phone TEXT, Email TEXT);
CREATE TABLE Customer (CustomerId INTEGER PRIMARY KEY, FirstName TEXT NOT NULL, LastName TEXT NOT NULL, Company TEXT,
  Address TEXT, City TEXT, Country TEXT, PostalCode TEXT, Phone TEXT, Email TEXT NOT NULL,
  SupportRepId INTEGER REFERENCES Employee (EmployeeId));
CREATE TABLE Track (TrackId INTEGER PRIMARY KEY, Name TEXT NOT NULL, Composer TEXT, Milliseconds INTEGER NOT NULL, UnitPrice NUMERIC NOT NULL);
CREATE TABLE Invoice (InvoiceId INTEGER PRIMARY KEY, CustomerId INTEGER NOT NULL REFERENCES Customer (CustomerId),
  InvoiceDate TIMESTAMP NOT NULL, BillingAddress TEXT, BillingCity TEXT, BillingCountry TEXT, BillingPostalCode TEXT, Total NUMERIC NOT NULL);
CREATE TABLE InvoiceLine (InvoiceLineId INTEGER PRIMARY KEY, InvoiceId INTEGER NOT NULL REFERENCES Invoice (InvoiceId),
  TrackId INTEGER NOT NULL REFERENCES Track (TrackId), UnitPrice NUMERIC NOT NULL, Quantity INTEGER NOT NULL);
