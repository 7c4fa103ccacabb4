package render_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/render"
)

// claim is one thing a real privacy policy says, and the section of the
// rendered policy that must say it ("" is the opening, before the first
// section). want is a case-insensitive regular expression.
type claim struct {
	section, want string
}

// Section headings of the rendered Markdown.
const (
	sIntro     = ""
	sCollect   = "Information we collect"
	sUse       = "How we use your information"
	sShare     = "Who we share it with"
	sKeep      = "How long we keep it"
	sSecurity  = "How we protect it"
	sRights    = "Your rights"
	sCookies   = "Cookies"
	sTransfers = "International transfers"
	sChildren  = "Children"
	sChanges   = "Changes to this policy"
	sContact   = "Contact us"
)

// seeds are the claims of the five seed policies
// (/work/shared/seed-policies), read section by section from the
// originals, each expected in the example written from it.
var seeds = []struct {
	example, original string
	claims            []claim
}{
	{"pentra", "000_919c20dfe19883ad.txt", []claim{
		// 1. Information we collect
		{sCollect, `\*\*Name\*\*`}, {sCollect, `\*\*Email address\*\*`}, {sCollect, `\*\*Organization\*\*`},
		{sCollect, `Job title`}, {sCollect, `Usage data and platform interactions`},
		{sCollect, `IP address`}, {sCollect, `Browser user agent`},
		{sCollect, `Penetration testing metadata`}, {sCollect, `Payment information`},
		// 2. How we use
		{sUse, `### Provide and improve our platform services`}, {sUse, `### Process payments and manage accounts`},
		{sUse, `### Communicate platform updates and support`}, {sUse, `### Enhance user experience`},
		{sUse, `### Develop and refine AI capabilities`}, {sUse, `### Ensure platform security`},
		// 3. Data protection measures
		{sSecurity, `End-to-end encryption for all stored data`}, {sSecurity, `We check this automatically`},
		{sSecurity, `cloud and on-premise hosting`}, {sSecurity, `Regular security audits`},
		{sSecurity, `Access control`}, {sSecurity, `Multi-factor authentication`},
		{sSecurity, `Aggregate usage data is anonymised`},
		// 4. Data sharing
		{sShare, `We do not sell`}, {sShare, `service providers`}, {sUse, `aggregated, anonymised`},
		{sShare, `when the law requires it`},
		// 5. User data rights
		{sRights, `Access:`}, {sRights, `Erasure:`}, {sRights, `Portability:`}, {sRights, `Rectification:`},
		{sUse, `Platform updates.*you can unsubscribe`},
		// 6. Confidentiality commitment
		{sShare, `penetration testing metadata as strictly confidential`}, {sShare, `without your explicit permission`},
		// 7. Cookies
		{sCookies, `only essential cookies`}, {sUse, `withdraw your consent`},
		// 8. International transfers
		{sIntro, `General Data Protection Regulation`}, {sIntro, `California Consumer Privacy Act`},
		{sTransfers, `standard contractual clauses`},
		// 9. Data retention
		{sKeep, `kept while your account is open`}, {sKeep, `30 days after it is terminated`},
		{sKeep, `purged one year after a test is completed`},
		// 10. Security incident response
		{sSecurity, `Immediate notification of potential data breaches`}, {sSecurity, `investigation`},
		// 11. Children
		{sChildren, `under 18`}, {sChildren, `do not knowingly collect`},
		// 12. Changes
		{sChanges, `announce material changes by email`}, {sChanges, `keep using .* you accept the new version`},
		{sIntro, `Last updated 28 March 2025`},
		// 13. Contact
		{sContact, `support@pentra\.ai`},
	}},
	{"packetsense", "001_736f1a6a37e4cae7.txt", []claim{
		// Introduction and scope
		{sIntro, `PacketSense`}, {sIntro, `“we”`}, {sIntro, `WordPress plugin, our websites and our cloud services`},
		// 1. Information we collect
		{sCollect, `Email address`}, {sCollect, `\*\*Name\*\*`}, {sCollect, `Payment information`},
		{sCollect, `never store payment card numbers`}, {sCollect, `Stripe processes them`},
		{sCollect, `Site and security data`}, {sCollect, `WordPress and PHP versions`}, {sCollect, `Security events`},
		{sCollect, `IP address`}, {sCollect, `Website or profile URL`},
		// 2. How we use
		{sUse, `### Provide and improve the Service`}, {sUse, `security features, updates and threat intelligence`},
		{sUse, `### Validate licenses and seats`}, {sUse, `### Process payments`}, {sUse, `### Prevent fraud and abuse`},
		{sUse, `### Communicate with you`}, {sUse, `### Comply with legal obligations`},
		// 3. Legal bases
		{sUse, `our contract with you`}, {sUse, `legitimate interests`}, {sUse, `required to by law`},
		// 4. Sharing
		{sShare, `do not sell`}, {sShare, `Stripe`}, {sShare, `Postmark`}, {sShare, `Hetzner`},
		{sShare, `law requires it or it is needed to enforce our terms`}, {sShare, `merger, acquisition`},
		// 5. Retention
		{sKeep, `Security event logs are kept 90 days`}, {sKeep, `tax`}, {sKeep, `while your account is open`},
		// 6. Security
		{sSecurity, `Sensitive secrets are encrypted at rest`}, {sSecurity, `signed and authenticated`},
		{sSecurity, `Access control`}, {sSecurity, `cannot guarantee absolute security`},
		// 7. Cookies
		{sCookies, `only essential cookies`}, {sCookies, `signed in`}, {sCookies, `cross-site request forgery`},
		{sCookies, `not use cookies for advertising`},
		// 8. Rights
		{sRights, `Access:`}, {sRights, `Rectification:`}, {sRights, `Erasure:`}, {sRights, `Portability:`},
		{sRights, `Restriction:`}, {sRights, `Objection:`}, {sRights, `privacy@packetsense\.dev`},
		{sRights, `complain to a data protection supervisory authority`},
		// 9. International transfers
		{sTransfers, `transferred outside`}, {sTransfers, `safeguards`},
		// 10. Children: the age of consent in the reader's jurisdiction
		{sChildren, `under 16 in the EU`}, {sChildren, `under 13 in the United States`}, {sChildren, `do not knowingly collect`},
		// 11. Changes
		{sChanges, `notice on our website`},
		// 12. Contact
		{sContact, `privacy@packetsense\.dev`},
	}},
	{"dsentr", "002_17824c58c8a09228.txt", []claim{
		// Dates, scope, acceptance
		{sIntro, `Effective 31 October 2025`}, {sIntro, `Last updated 31 October 2025`},
		{sIntro, `our application, our website and related services`}, {sIntro, `By using .* you agree to this policy`},
		// 1. Information we collect
		{sCollect, `\*\*Name\*\*`}, {sCollect, `Email address`}, {sCollect, `Password`}, {sCollect, `Credentials`},
		{sCollect, `never store payment card numbers, bank account details and financial account information`},
		{sCollect, `Stripe processes them`}, {sCollect, `Workflow and integration data`},
		{sCollect, `IP address`}, {sCollect, `Browser user agent`},
		{sCookies, `dsentr_session`}, {sCookies, `Analytics`},
		// 2. How we use
		{sUse, `### Operate, maintain and improve the Service`}, {sUse, `### Authenticate users and manage accounts`},
		{sUse, `### Process payments and manage subscriptions`}, {sUse, `### Send transactional communications`},
		{sUse, `### Detect, prevent and respond to fraud`}, {sUse, `### Comply with legal obligations`},
		{sShare, `do not sell or rent`},
		// 3. Sharing
		{sShare, `Amazon Web Services`}, {sShare, `Postmark`}, {sShare, `PostHog`}, {sShare, `Stripe`},
		{sShare, `law requires it or it is needed to protect our rights`}, {sShare, `merger, acquisition`},
		{sShare, `must keep the commitments of this policy`}, {sShare, `do not share it with advertisers`},
		// 4. Security
		{sSecurity, `encrypted in transit using TLS`}, {sSecurity, `OAuth tokens`}, {sSecurity, `We check this automatically`},
		{sSecurity, `Only authorized personnel`}, {sSecurity, `cannot guarantee absolute security`},
		// 5. Retention
		{sKeep, `while your account is open`}, {sKeep, `Workflow logs are deleted automatically`},
		{sKeep, `Billing and audit records`}, {sKeep, `deleted within 30 days`},
		// 6. International transfers
		{sTransfers, `United States`}, {sTransfers, `your explicit consent`},
		// 7. Rights
		{sRights, `Access:`}, {sRights, `Rectification:`}, {sRights, `Erasure:`}, {sRights, `Portability:`},
		{sRights, `support@dsentr\.com`}, {sRights, `confirm your identity`}, {sRights, `complain to a data protection`},
		{sUse, `withdraw your consent`},
		// 8. Data restrictions
		{sCollect, `not PCI-DSS compliant: do not use it to send or store such information`},
		// 9. Children
		{sChildren, `under 18`}, {sChildren, `we will delete it`},
		// 10. Updates
		{sChanges, `by email or a notice in the service`}, {sChanges, `keep using .* you accept the new version`},
		{sChanges, `last updated on 31 October 2025`},
		// 11. Contact
		{sContact, `support@dsentr\.com`},
	}},
	{"infratrace", "003_4ae1ecc54f3cd0cd.txt", []claim{
		// Introduction, acceptance, date
		{sIntro, `infrastructure management platform`}, {sIntro, `By using the InfraTrace platform, you agree`},
		{sIntro, `Last updated 20 November 2024`},
		// 2. Information we collect
		{sCollect, `Email address`}, {sCollect, `Username`}, {sCollect, `Password`}, {sCollect, `Organization`},
		{sCollect, `Job title`}, {sCollect, `Infrastructure data you create`}, {sCollect, `VLAN`},
		{sCollect, `never store payment card numbers`}, {sCollect, `Payment information`},
		{sCollect, `Usage data`}, {sCollect, `IP address`}, {sCollect, `Browser user agent`},
		// 3. How we use
		{sUse, `### Service delivery`}, {sUse, `### Account management`}, {sUse, `### Communication`},
		{sUse, `### Security`}, {sUse, `### Product improvement`}, {sUse, `### Legal compliance`},
		// 4. Sharing
		{sShare, `do not sell`}, {sShare, `Stripe`}, {sShare, `Cloudflare R2`}, {sShare, `Hetzner`},
		{sShare, `invite people to your team`}, {sShare, `legal process`}, {sShare, `government authority`},
		{sShare, `merger, acquisition or sale of assets`}, {sShare, `tell you before`},
		// 5. Security
		{sSecurity, `TLS/SSL`}, {sSecurity, `bcrypt`}, {sSecurity, `every password column is declared hashed`},
		{sSecurity, `role-based permissions`}, {sSecurity, `automated backups`}, {sSecurity, `anomaly detection`},
		{sSecurity, `cannot guarantee absolute security`},
		// 6. Rights
		{sRights, `Access:`}, {sRights, `Rectification:`}, {sRights, `Erasure:`}, {sRights, `Portability:`},
		{sRights, `Settings > Account`}, {sRights, `within 30 days`},
		// 7. Cookies
		{sCookies, `Authentication, session management and security`}, {sCookies, `theme, language`}, {sCookies, `1 year`},
		// 8. Retention
		{sKeep, `while your account is open`}, {sKeep, `permanently deleted within 30 days`}, {sKeep, `Backups are kept for 90 days`},
		// 9. Children
		{sChildren, `under 16`},
		// 10. Changes
		{sChanges, `email, a notice on our website or a notice in the service`}, {sChanges, `you accept the new version`},
		// 11. Contact
		{sContact, `privacy@infratrace\.example`},
	}},
	{"devsecops", "004_8ce03d03e45405a4.txt", []claim{
		{sIntro, `By using the Service, you agree`},
		// 1. Information we collect
		{sCollect, `\*\*Name\*\*`}, {sCollect, `Email address`}, {sCollect, `Organization`}, {sCollect, `Password`},
		{sCollect, `Scan data`}, {sCollect, `Kubernetes`}, {sCollect, `Scan results`}, {sCollect, `Usage information`},
		{sCollect, `IP address`}, {sCollect, `never store payment card numbers`}, {sCollect, `Razorpay and Stripe`},
		{sCollect, `Payment information`},
		// 2. How we use
		{sUse, `### Provide, maintain and improve the Service`}, {sUse, `### Process payments and manage subscriptions`},
		{sUse, `### Send transactional emails`}, {sUse, `### Detect, investigate and prevent abuse`},
		{sUse, `### Comply with legal obligations and enforce our Terms and AUP`}, {sUse, `### Communicate product updates`},
		{sUse, `do not use scan data and scan results to train machine-learning models for other customers`},
		// 3. Sharing
		{sShare, `Razorpay`}, {sShare, `Stripe`}, {sShare, `Resend`}, {sShare, `Anthropic.*Scan results`},
		{sShare, `subpoena or court order`}, {sShare, `tell you about such a request`},
		{sShare, `merger, acquisition or sale of assets`}, {sShare, `must keep the commitments`},
		{sShare, `do not sell`}, {sShare, `advertisers`},
		// 4. Retention
		{sKeep, `while your account is open`}, {sKeep, `30 days on the Free plan`}, {sKeep, `soft-deleted for 30 days`},
		{sKeep, `Backups are kept for 90 days`}, {sKeep, `Audit logs are kept 12 months`}, {sRights, `erase it 30 days later`},
		// 5. Security
		{sSecurity, `TLS 1.3`}, {sSecurity, `Fernet`}, {sSecurity, `cloud credentials and webhook secrets`},
		{sSecurity, `bcrypt`}, {sSecurity, `HttpOnly, Secure session cookies with CSRF protection`},
		{sSecurity, `Docker container isolation`}, {sSecurity, `SSRF protection`}, {sSecurity, `within 72 hours`},
		{sSecurity, `cannot guarantee absolute security`},
		// 6. Rights
		{sRights, `Access:`}, {sRights, `Rectification:`}, {sRights, `Erasure:`}, {sRights, `Portability:`}, {sRights, `Objection:`},
		// Cookies
		{sCookies, `only essential cookies`}, {sCookies, `no third-party cookies`}, {sCookies, `not use cookies for advertising`},
		{sUse, `aggregated server logs, not cross-site tracking`},
		// 8. International transfers
		{sTransfers, `France \(OVH, EU-West\)`}, {sTransfers, `outside the EU`}, {sTransfers, `standard contractual clauses`},
		// 9. Children
		{sChildren, `under 18`}, {sChildren, `we will delete it`},
		// 10. Changes
		{sChanges, `at least 30 days before it takes effect`}, {sChanges, `email or a notice in the service`},
	}},
}

// TestSeedPolicies renders each example written from a seed policy and
// checks, section by section, that it says what the original says: a
// section dropped or a declaration no longer rendered fails here. Each
// claim is checked in its Markdown section and in the HTML page's text.
func TestSeedPolicies(t *testing.T) {
	t.Parallel()
	r := renderer(t, render.Options{})
	for _, seed := range seeds {
		t.Run(seed.example, func(t *testing.T) {
			t.Parallel()
			p := load(t, "../examples/"+seed.example+"/vow.yaml")
			md, err := r.String(render.Markdown, p, render.Meta{})
			if err != nil {
				t.Fatal(err)
			}
			h, err := r.String(render.HTML, p, render.Meta{})
			if err != nil {
				t.Fatal(err)
			}
			sections := splitSections(md)
			text := htmlText(h)
			for _, c := range seed.claims {
				body, ok := sections[c.section]
				if !ok {
					t.Errorf("%s: the section %q is missing", seed.original, c.section)
					continue
				}
				re := regexp.MustCompile("(?i)" + c.want)
				if !re.MatchString(body) {
					t.Errorf("%s: section %q does not say %q", seed.original, c.section, c.want)
				}
				// HTML renders Markdown's ** and ### as tags.
				plain := strings.NewReplacer(`\*\*`, "", "### ", "").Replace(c.want)
				if !regexp.MustCompile("(?i)" + plain).MatchString(text) {
					t.Errorf("%s: the HTML page does not say %q", seed.original, plain)
				}
			}
		})
	}
}
