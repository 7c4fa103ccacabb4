package detect_test

import (
	"fmt"

	"github.com/vowprivacy/vow/detect"
)

func Example() {
	var col detect.Column
	for _, v := range []string{
		`{"contact":{"email":"jane.doe@example.com","phone":"+44 20 7946 0958"}}`,
		`{"contact":{"email":"j.smith@example.org"}}`,
		"2026-01-02T10:00:00Z INFO card 4111 1111 1111 1111 declined",
	} {
		col.Add([]byte(v))
	}
	col.Add(nil) // NULL
	for _, f := range col.Findings() {
		fmt.Printf("%s %s path=%q %d/%d %s\n", f.Category, f.Detector, f.Path, f.Matched, f.Values, f.Example)
	}
	// Output:
	// user.contact.email email path="contact.email" 2/3 j•••@•••.com
	// user.contact.phone_number phone path="contact.phone" 1/3 +••••••••••58
	// user.financial.credit_card card path="" 1/3 •••• •••• •••• 1111
}
