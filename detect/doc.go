// Package detect owns content-based detection of personal data: validated
// detectors that recognise an email address, a card number, an IBAN, a token
// or a password hash in a sampled column value, and the per-column aggregate
// of what they found. Column names are classify's business; this package only
// looks at the bytes.
//
// Detectors are hand-written scanners that jump to anchor bytes ('@', digits,
// '$', known prefixes) and validate afterwards (Luhn and issuer ranges, IBAN
// mod 97, JWT headers, national-id check digits). No regular expression runs
// on the hot path, so a scan keeps pace with grep-like tools, and no input —
// binary, truncated, invalid UTF-8 — makes a detector panic.
//
// A hit reports where a value matched, never what: the only form of a match
// that leaves the package is the masked example built by Mask.
//
// Precision matters more than recall. Inherently noisy detectors (names,
// addresses, dates of birth) need a key path or a nearby word for context, or
// report a confidence that says how little a bare match is worth.
package detect

// Taxonomy keys of the categories detect reports.
const (
	CatEmail       = "user.contact.email"
	CatPhone       = "user.contact.phone_number"
	CatIP          = "user.device.ip_address"
	CatCard        = "user.financial.credit_card"
	CatBankAccount = "user.financial.bank_account"
	CatNationalID  = "user.government_id.national_identification_number"
	CatBirthDate   = "user.demographic.date_of_birth"
	CatAddress     = "user.contact.address"
	CatName        = "user.name"
	CatCredentials = "user.authorization.credentials"
	CatPassword    = "user.authorization.password"
)

var categories = []string{
	CatEmail, CatPhone, CatIP, CatCard, CatBankAccount, CatNationalID,
	CatBirthDate, CatAddress, CatName, CatCredentials, CatPassword,
}

// Categories returns the taxonomy keys detect can report, in a stable order.
func Categories() []string {
	return append([]string(nil), categories...)
}
