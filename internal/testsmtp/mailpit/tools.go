// Package mailpit pins the version of Mailpit (an SMTP sink with an HTTP
// API) that the tests send mail to. It is a separate module so that its
// dependencies stay out of Vow's go.mod; testsmtp and scripts/test.sh build
// the pinned binary from here with `go build github.com/axllent/mailpit`.
package mailpit
