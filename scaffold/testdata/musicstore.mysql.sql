-- musicstore.sqlite.sql on MySQL/MariaDB.
CREATE TABLE Employee (EmployeeId int PRIMARY KEY, LastName varchar(20) NOT NULL, FirstName varchar(20) NOT NULL, Title varchar(30),
  ReportsTo int, BirthDate datetime, HireDate datetime, Address varchar(70), City varchar(40),
  Country varchar(40), PostalCode varchar(10), Phone varchar(24), Email varchar(60),
  FOREIGN KEY (ReportsTo) REFERENCES Employee (EmployeeId)) ENGINE=InnoDB;
CREATE TABLE Customer (CustomerId int PRIMARY KEY, FirstName varchar(40) NOT NULL, LastName varchar(20) NOT NULL, Company varchar(80),
  Address varchar(70), City varchar(40), Country varchar(40), PostalCode varchar(10), Phone varchar(24), Email varchar(60) NOT NULL,
  SupportRepId int, FOREIGN KEY (SupportRepId) REFERENCES Employee (EmployeeId) ON DELETE SET NULL) ENGINE=InnoDB;
CREATE TABLE Track (TrackId int PRIMARY KEY, Name varchar(200) NOT NULL, Composer varchar(220), Milliseconds int NOT NULL, UnitPrice decimal(10,2) NOT NULL) ENGINE=InnoDB;
CREATE TABLE Invoice (InvoiceId int PRIMARY KEY, CustomerId int NOT NULL, InvoiceDate datetime NOT NULL, BillingAddress varchar(70),
  BillingCity varchar(40), BillingCountry varchar(40), BillingPostalCode varchar(10), Total decimal(10,2) NOT NULL,
  FOREIGN KEY (CustomerId) REFERENCES Customer (CustomerId)) ENGINE=InnoDB;
CREATE TABLE InvoiceLine (InvoiceLineId int PRIMARY KEY, InvoiceId int NOT NULL, TrackId int NOT NULL, UnitPrice decimal(10,2) NOT NULL, Quantity int NOT NULL,
  FOREIGN KEY (InvoiceId) REFERENCES Invoice (InvoiceId) ON DELETE CASCADE, FOREIGN KEY (TrackId) REFERENCES Track (TrackId)) ENGINE=InnoDB;
