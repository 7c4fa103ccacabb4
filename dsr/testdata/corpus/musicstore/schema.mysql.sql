CREATE TABLE `Employee` (`EmployeeId` INT PRIMARY KEY, `LastName` VARCHAR(20) NOT NULL, `FirstName` VARCHAR(20) NOT NULL, `Title` VARCHAR(30),
  `ReportsTo` INT, `Email` VARCHAR(60), FOREIGN KEY (`ReportsTo`) REFERENCES `Employee` (`EmployeeId`));
CREATE TABLE `Customer` (`CustomerId` INT PRIMARY KEY, `FirstName` VARCHAR(40) NOT NULL, `LastName` VARCHAR(20) NOT NULL, `Company` VARCHAR(80),
  `Email` VARCHAR(60) NOT NULL, `Phone` VARCHAR(24), `SupportRepId` INT, FOREIGN KEY (`SupportRepId`) REFERENCES `Employee` (`EmployeeId`));
CREATE TABLE `Invoice` (`InvoiceId` INT PRIMARY KEY, `CustomerId` INT NOT NULL, `InvoiceDate` DATETIME NOT NULL,
  `BillingAddress` VARCHAR(70), `Total` DECIMAL(10,2) NOT NULL, FOREIGN KEY (`CustomerId`) REFERENCES `Customer` (`CustomerId`));
CREATE TABLE `InvoiceLine` (`InvoiceLineId` INT PRIMARY KEY, `InvoiceId` INT NOT NULL, `TrackId` INT NOT NULL,
  `UnitPrice` DECIMAL(10,2) NOT NULL, `Quantity` INT NOT NULL, FOREIGN KEY (`InvoiceId`) REFERENCES `Invoice` (`InvoiceId`));
