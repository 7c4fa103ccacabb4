// Package policy owns the policy file, vow.yaml: its model, a strict decoder
// that reports every problem with file:line:col and a hint, and the lints that
// find contradictions between the promises a policy makes.
//
// Everything else in Vow (request execution, retention, consent, rendering)
// reads the same *Policy, so what the published policy says and what Vow
// enforces cannot disagree.
package policy

// The struct tags drive the decoder, the JSON Schema and the reference docs:
//
//	yaml:"key"        the key in vow.yaml
//	vow:"required"    the key must be present
//	vow:"keyed"       a YAML mapping decoded into a slice, each element's
//	                  Name set from its key (keeps the file's order)
//	help:"…"          one-line description for the schema and the docs

// Policy is a whole vow.yaml.
type Policy struct {
	Version        int            `yaml:"version" vow:"required" help:"Format version of this file; 1."`
	Starter        bool           `yaml:"starter" help:"Written by vow init: the decisions left to a human (retention periods, erasure strategies) are warnings for vow check, and every command that acts on the policy refuses it until this line is removed."`
	Organization   Organization   `yaml:"organization" vow:"required" help:"Who the controller is and how to reach them."`
	Categories     []*Category    `yaml:"categories" vow:"keyed" help:"Data categories this policy adds to the built-in taxonomy, by dotted key."`
	Subjects       []*Subject     `yaml:"subjects" vow:"keyed" help:"Data subjects this policy adds to the built-ins (customer, team_member, site_visitor, …)."`
	Purposes       []*Purpose     `yaml:"purposes" vow:"keyed" help:"Why data is processed, each with its legal basis."`
	Systems        []*System      `yaml:"systems" vow:"keyed" help:"Datastores that hold personal data: their tables, fields and relations."`
	Processors     []*Processor   `yaml:"processors" help:"Processors and sub-processors that receive personal data."`
	Retention      Retention      `yaml:"retention" help:"How long data is kept, and what happens to it then."`
	Rights         Rights         `yaml:"rights" help:"Data-subject rights offered and how requests are answered."`
	Consent        Consent        `yaml:"consent" help:"Purposes that rest on consent, and how consent is collected."`
	Communications Communications `yaml:"communications" help:"Email and notification topics subjects can opt out of."`
	Cookies        []*Cookie      `yaml:"cookies" help:"Cookies and similar technologies set on the company's sites."`
	Notices        Notices        `yaml:"notices" help:"Dates and promises about the policy itself."`
	Brake          Brakes         `yaml:"brake" help:"Limits past which an erasure or a retention run stops and waits for an operator's approval."`
	Forbidden      []string       `yaml:"forbidden" help:"Categories the company promises never to hold, e.g. user.financial.credit_card: no field may declare one, the rendered policy states the promise, and a content scan (vow scan, check --live --scan) that finds one anywhere is an error."`
	// ForbiddenReason turns the promise into a request to readers: the
	// service is not built for these categories, so they must not send them.
	ForbiddenReason string      `yaml:"forbidden_reason" help:"Why readers must not send the forbidden categories to the service, e.g. The service is not PCI-DSS compliant; the rendered policy asks them not to."`
	Scope           Scope       `yaml:"scope" help:"Who \"we\" are and which services, sites and apps the policy covers."`
	Promises        Promises    `yaml:"promises" help:"Commitments the rendered policy states only when declared: no sale, no advertising, no model training, confidentiality."`
	Disclosures     Disclosures `yaml:"disclosures" help:"Disclosures other than to processors: to authorities, to a successor in a merger or acquisition, to the reader's own team."`
	Security        Security    `yaml:"security" help:"Security measures the rendered policy lists; those Vow can check (encryption at rest of named categories, password hashing) are checked against the fields' stored form."`

	// File is the name the policy was loaded from; Source its bytes.
	File   string `yaml:"-"`
	Source []byte `yaml:"-"`
	pos    map[string]Pos
}

// Organization is the controller.
type Organization struct {
	Name      string      `yaml:"name" vow:"required" help:"Trading name shown to readers."`
	LegalName string      `yaml:"legal_name" help:"Registered legal name of the controller."`
	Address   string      `yaml:"address" help:"Registered postal address."`
	Website   string      `yaml:"website" help:"Public website URL."`
	Contacts  Contacts    `yaml:"contacts" vow:"required" help:"Who answers privacy questions."`
	Locations []string    `yaml:"locations" help:"Where data is stored (regions or countries)."`
	Transfers []*Transfer `yaml:"transfers" help:"International transfers and their safeguards."`
}

// Contacts names the people and mailboxes readers and regulators write to.
type Contacts struct {
	Privacy        string   `yaml:"privacy" vow:"required" help:"Privacy contact email address."`
	DPO            *Contact `yaml:"dpo" help:"Data protection officer."`
	Representative *Contact `yaml:"representative" help:"Representative in the EU/UK (GDPR art. 27), if any."`
	Security       string   `yaml:"security" help:"Security contact email, for breach reports."`
}

// Contact is a named person or office.
type Contact struct {
	Name    string `yaml:"name" help:"Name of the person or office."`
	Email   string `yaml:"email" vow:"required" help:"Email address."`
	Address string `yaml:"address" help:"Postal address."`
}

// Transfer is a transfer of personal data outside the home jurisdiction.
type Transfer struct {
	To          string   `yaml:"to" vow:"required" help:"Destination country or region."`
	Safeguard   string   `yaml:"safeguard" vow:"required" help:"Legal safeguard: adequacy, scc, bcr, consent, dpf."`
	Categories  []string `yaml:"categories" help:"Categories transferred (all, if omitted)."`
	Description string   `yaml:"description" help:"Plain-words explanation for readers."`
}

// Category is a data category declared by the policy.
type Category struct {
	Name        string `yaml:"-"`
	Title       string `yaml:"title" help:"Short name for readers."`
	Description string `yaml:"description" help:"What this category covers, in plain words."`
	Personal    *bool  `yaml:"personal" help:"Whether this is personal data; defaults to true under user.*."`
	Sensitive   bool   `yaml:"sensitive" help:"Special-category or high-risk data."`
}

// Subject is a kind of person data is about.
type Subject struct {
	Name        string `yaml:"-"`
	Title       string `yaml:"title" help:"Short name for readers."`
	Description string `yaml:"description" help:"Who these people are."`
}

// Purpose is a reason for processing.
type Purpose struct {
	Name        string `yaml:"-"`
	Title       string `yaml:"title" help:"Short name for readers."`
	Description string `yaml:"description" help:"What is done and why, in plain words."`
	LegalBasis  string `yaml:"legal_basis" vow:"required" help:"consent, contract, legal_obligation, vital_interests, public_task or legitimate_interests."`
	Interest    string `yaml:"interest" help:"For legitimate_interests: the interest pursued."`
	Essential   bool   `yaml:"essential" help:"Needed to provide the service; cannot be refused."`
}

// System is a datastore (or, later, a service) that holds personal data.
type System struct {
	Name        string     `yaml:"-"`
	Kind        string     `yaml:"kind" vow:"required" help:"postgres, mysql (also MariaDB), sqlite, or webhook (a service of yours that exports and erases on request)."`
	Description string     `yaml:"description" help:"What this system is."`
	Connection  Connection `yaml:"connection" vow:"required" help:"Where to find the DSN (for a webhook: its signing secret); never the secret itself."`
	Webhook     *Webhook   `yaml:"webhook" help:"For kind webhook: the endpoint Vow calls to export or erase a subject."`
	Location    string     `yaml:"location" help:"Where the system is hosted."`
	Purposes    []string   `yaml:"purposes" help:"Purposes this system serves."`
	Tables      []*Table   `yaml:"tables" vow:"keyed" help:"Tables holding personal data, by name (schema.table outside the default schema)."`
	Ignore      []string   `yaml:"ignore" help:"Tables that hold no personal data, so live checks do not report them as undeclared."`
	// Replicas are read for their replication lag: a purge that makes
	// them fall behind slows down (see retention.throttle).
	Replicas []Connection `yaml:"replicas" help:"For a mysql (MariaDB) system: its read replicas, each found like connection (env or file); retention runs read their replication lag and slow down when it grows. (A PostgreSQL primary reports its standbys itself.)"`
	// TimeZone decides which instants the system's wall times are: a
	// cutoff compared with them in another zone takes rows hours early.
	TimeZone string `yaml:"time_zone" help:"The time zone (an IANA name: UTC, Europe/Berlin) of the system's times without one — PostgreSQL timestamp without time zone and date, MySQL DATETIME and DATE, SQLite text: the zone the application writes them in. Needed where the database server's own time zone is not UTC; UTC otherwise."`
}

// Webhook is a service that is not a database: Vow asks it, over signed
// HTTP requests, to export or erase a subject, and it answers at once or
// later through a callback.
type Webhook struct {
	URL          string   `yaml:"url" vow:"required" help:"HTTPS endpoint that receives Vow's signed requests."`
	Identities   []string `yaml:"identities" vow:"required" help:"Identity kinds the service finds subjects by (email, user_id, …)."`
	Categories   []string `yaml:"categories" vow:"required" help:"Data categories the service holds."`
	Erase        bool     `yaml:"erase" help:"The service erases subjects on request (else it is only asked for exports)."`
	AllowPrivate bool     `yaml:"allow_private" help:"Allow a private, loopback or link-local address; refused by default to stop server-side request forgery."`
}

// Connection says where the DSN of a system comes from.
type Connection struct {
	Env  string `yaml:"env" help:"Name of an environment variable holding the DSN."`
	File string `yaml:"file" help:"Path of a file holding the DSN (e.g. a mounted secret)."`
	Path string `yaml:"path" help:"For sqlite: the database file, relative to this policy file."`
	DSN  string `yaml:"dsn" help:"Refused: secrets never go in the policy file. Use env or file."`
}

// Table is a table of a system.
type Table struct {
	Name        string   `yaml:"-"`
	Description string   `yaml:"description" help:"What a row is."`
	Subject     string   `yaml:"subject" help:"Whose data a row is (a subject key)."`
	PrimaryKey  []string `yaml:"primary_key" help:"Primary key columns, or another unique key of NOT NULL columns for a table without one; read from the database when omitted."`
	Erase       *Erasure `yaml:"erase" help:"Table-level erasure: delete (the rows) or a hold; field strategies apply otherwise."`
	Fields      []*Field `yaml:"fields" vow:"keyed" help:"Columns, each mapped to a category. A bare string is a category."`
	// ForeignKeys declares relations of several columns; a relation of one
	// column is written on its field (references:).
	ForeignKeys []*ForeignKey `yaml:"foreign_keys" help:"Relations over several columns (composite keys), e.g. {columns: [team_id, member_no], references: \"team_members (team_id, member_no)\"}."`
}

// ForeignKey is a relation over one or more columns of a table.
type ForeignKey struct {
	Columns    []string `yaml:"columns" vow:"required" help:"The referencing columns of this table, in key order."`
	References string   `yaml:"references" vow:"required" help:"The referenced key: \"[system:]table (column, …)\", as in SQL."`
	Label      string   `yaml:"label" help:"For a reference: a column of the referenced row (a list's name, a link's URL) that access packages show beside the reference, so they read like the application's own export."`
	Relation   string   `yaml:"relation" help:"owner, mention or owns: whose the rows are (see field relation)."`
}

// Field is a column of a table.
type Field struct {
	Name       string     `yaml:"-"`
	Category   string     `yaml:"category" help:"Data category of the column."`
	Identity   string     `yaml:"identity" help:"This column identifies the subject: email, user_id, phone, username, customer_id or external_id."`
	References string     `yaml:"references" help:"Relation: [system:]table.column this column points to."`
	Label      string     `yaml:"label" help:"For a reference: a column of the referenced row (a list's name, a link's URL) that access packages show beside the reference, so they read like the application's own export."`
	Relation   string     `yaml:"relation" help:"Whose rows these are: owner (a row belongs to whoever owns the row it references), mention (it only names that person; erasure applies this column's strategy) or owns (the referenced row, e.g. an address, belongs to this row's owner). Inferred when omitted."`
	Erase      *Erasure   `yaml:"erase" help:"Erasure strategy: nullify, hmac, {set: value} or {hold: reason, for: duration}."`
	Purposes   []string   `yaml:"purposes" help:"Purposes this column is used for, when narrower than the system's."`
	Rectify    *bool      `yaml:"rectify" help:"Whether a rectification request may change this column. By default a column of personal data may be changed, unless it is a key, a reference, a credential (user.authorization) or the timestamp a retention rule counts from; true or false says otherwise."`
	Stored     string     `yaml:"stored" help:"How the values are stored: plain (default), encrypted or hashed. A content scan that finds readable personal data or a plaintext secret in an encrypted or hashed column is an error."`
	JSON       []*JSONKey `yaml:"json" vow:"keyed" help:"For a JSON column: the keys inside it that hold personal data, by path (phone, address.city, items[].email; [] for any array element), each mapped to a category. A bare string is a category."`
}

// JSONKey is a key path inside a JSON column and what it holds.
type JSONKey struct {
	Name     string `yaml:"-"`
	Category string `yaml:"category" vow:"required" help:"Data category of the values at this path."`
}

// Storage forms of a field's values.
const (
	StoredPlain     = "plain"
	StoredEncrypted = "encrypted"
	StoredHashed    = "hashed"
)

// StoredForms lists the values of a field's stored key.
var StoredForms = []string{StoredPlain, StoredEncrypted, StoredHashed}

// Processor receives personal data on the company's behalf.
type Processor struct {
	Name       string   `yaml:"name" vow:"required" help:"Company name."`
	Purposes   []string `yaml:"purposes" vow:"required" help:"Purposes it processes data for."`
	Categories []string `yaml:"categories" vow:"required" help:"Categories it receives."`
	Location   string   `yaml:"location" vow:"required" help:"Where it processes data."`
	Safeguard  string   `yaml:"safeguard" help:"Transfer safeguard when outside the home jurisdiction."`
	Role       string   `yaml:"role" help:"processor (default) or sub-processor."`
	URL        string   `yaml:"url" help:"Its privacy or DPA page."`
}

// Retention holds the retention rules.
type Retention struct {
	Backups  Duration `yaml:"backups" help:"How long backups are kept; erased data is gone from backups after this."`
	AuditLog Duration `yaml:"audit_log" help:"How long Vow keeps its own audit log, e.g. 12 months; older entries are pruned and what is left stays verifiable. Kept for ever when omitted."`
	Requests Duration `yaml:"requests" help:"How long Vow keeps the record of a data-subject request that has ended (dates, outcome, certificate; its identities go when it ends), e.g. 3y. Kept for ever when omitted."`
	Rules    []*Rule  `yaml:"rules" help:"Retention rules, each enforced by Vow."`
	// Throttle is the budget retention runs keep to on live databases.
	Throttle *Throttle `yaml:"throttle" help:"How retention runs pace themselves on a live database; defaults suit most (see docs/retention.md)."`
	// UntilClosed is a promise about the data no rule covers; the rendered
	// policy makes it only when declared, since no rule enforces it.
	UntilClosed bool `yaml:"until_closed" help:"Personal data no rule covers is kept while the account is open and deleted when it is closed or on request (erasure must be offered); the rendered policy says so only when true."`
}

// Rule removes or anonymises rows once they are older than Keep.
type Rule struct {
	Name        string   `yaml:"name" vow:"required" help:"Unique name of the rule."`
	Description string   `yaml:"description" help:"The promise in plain words."`
	Table       string   `yaml:"table" vow:"required" help:"system:table the rule applies to (system may be omitted when there is one)."`
	From        string   `yaml:"from" vow:"required" help:"Timestamp column the period is measured from."`
	After       string   `yaml:"after" help:"What the period runs from, in words for readers: rendered \"1 year after <after>\", e.g. the finding is resolved. Without it the column's name is put into words."`
	Keep        Duration `yaml:"keep" vow:"required" help:"How long rows are kept, e.g. 30d, 12 months, 7y."`
	Where       string   `yaml:"where" help:"SQL condition selecting the rows the rule covers, e.g. deleted_at IS NOT NULL."`
	Then        string   `yaml:"then" help:"delete (default) or anonymise (apply the fields' erasure strategies)."`
	Brake       *Brake   `yaml:"brake" help:"This rule's brake, in place of brake.retention."`
}

// Throttle paces retention runs by the database's health: batches sized to
// a target time, backing off past max_load or when rows cost more than
// impact times their baseline, waiting while past critical_load.
type Throttle struct {
	BatchTime     Interval    `yaml:"batch_time" help:"How long one batch (one transaction) should take; batch sizes adapt to it. 500ms when omitted."`
	MaxBatch      int         `yaml:"max_batch" help:"Most rows in one batch; 50000 when omitted."`
	Impact        float64     `yaml:"impact" help:"How many times its baseline cost a row may take before the run backs off (a busier database answers everyone slower); 2 when omitted, -1 turns it off."`
	MaxLoad       *LoadLimits `yaml:"max_load" help:"Load past which a run halves its batches and pauses (defaults: lock_waits 4, history_length 1000000, lag 10s; -1 turns one off)."`
	CriticalLoad  *LoadLimits `yaml:"critical_load" help:"Load past which a run stops and waits until it falls below max_load (defaults: lock_waits 32, history_length 10000000, lag 2m)."`
	CriticalWait  Interval    `yaml:"critical_wait" help:"How long a run waits out critical load before it stops (the next run resumes); 5m when omitted."`
	LatencyBudget float64     `yaml:"latency_budget" help:"The application's latency budget: how many times its median (before the run, and again each minute) a canary query's median (a point read of the purged table by primary key, timed every 20ms while batches run) may reach before the run backs off, e.g. 1.5. Off when omitted."`
}

// LoadLimits is a set of thresholds on what a database reports of its health;
// an omitted one keeps its default.
type LoadLimits struct {
	ThreadsRunning int      `yaml:"threads_running" help:"Other sessions executing a statement (PostgreSQL active sessions, MariaDB Threads_running)."`
	LockWaits      int      `yaml:"lock_waits" help:"Sessions waiting for a lock."`
	HistoryLength  int64    `yaml:"history_length" help:"InnoDB history list length: undo not yet purged (MariaDB/MySQL)."`
	Lag            Interval `yaml:"lag" help:"Replication lag of the slowest replica (PostgreSQL pg_stat_replication), e.g. 10s."`
}

// Rights lists the rights offered and how requests are answered.
type Rights struct {
	Offered      []string       `yaml:"offered" help:"access, portability, erasure, rectification, restriction, objection."`
	DeadlineDays int            `yaml:"deadline_days" help:"Days to answer a request; 30 when omitted."`
	Verification string         `yaml:"verification" help:"How identity is verified: email_code or trusted."`
	RequestURL   string         `yaml:"request_url" help:"Where subjects make requests."`
	Restriction  []*RightAction `yaml:"restriction" help:"How Vow records a restriction of processing: columns it sets on the subject's rows."`
	Objection    []*RightAction `yaml:"objection" help:"How Vow records an objection (e.g. to direct marketing): columns it sets on the subject's rows."`
	ErasureGrace *Grace         `yaml:"erasure_grace" help:"A grace period before an erasure runs, during which the account is soft-deleted and can be recovered by cancelling."`
	Free         bool           `yaml:"free" help:"Requests are answered free of charge; stated only when true."`
	Complaint    bool           `yaml:"complaint" help:"Readers may complain to a data protection authority; stated only when true."`
	SelfService  string         `yaml:"self_service" help:"Where in the product people can exercise rights themselves, e.g. Settings > Account."`
}

// Grace is a waiting period before an erasure: the subject's rows are
// marked (soft-deleted) at once, and erased when it ends unless the
// request is cancelled, which unmarks them.
type Grace struct {
	Period Duration       `yaml:"period" vow:"required" help:"How long the account can still be recovered, e.g. 14d."`
	Mark   []*RightAction `yaml:"mark" help:"Columns set when the grace period starts (value now sets the current time) and cleared if the request is cancelled."`
}

// RightAction records a right by setting a column on the subject's rows.
type RightAction struct {
	Set   string `yaml:"set" vow:"required" help:"[system:]table.column to set, in a table where Vow finds the subject's rows."`
	Value string `yaml:"value" vow:"required" help:"The value that records it, e.g. true or 0."`
}

// Consent describes purposes that rest on consent.
type Consent struct {
	Purposes []*ConsentPurpose `yaml:"purposes" vow:"keyed" help:"Consent purposes, keyed by purpose."`
}

// ConsentPurpose is how consent for one purpose is collected.
type ConsentPurpose struct {
	Name    string `yaml:"-"`
	Mode    string `yaml:"mode" vow:"required" help:"opt_in (off until granted) or opt_out (on until refused)."`
	GPC     bool   `yaml:"gpc" help:"A Global Privacy Control signal counts as an opt-out."`
	Default string `yaml:"default" help:"granted or denied; follows mode when omitted."`
}

// Communications lists the topics people receive messages about.
type Communications struct {
	Topics []*Topic `yaml:"topics" vow:"keyed" help:"Message topics, keyed by topic."`
}

// Topic is a kind of message.
type Topic struct {
	Name        string `yaml:"-"`
	Title       string `yaml:"title" help:"Short name for readers."`
	Description string `yaml:"description" help:"What these messages are."`
	Essential   bool   `yaml:"essential" help:"Service messages that cannot be opted out of."`
	Purpose     string `yaml:"purpose" help:"The purpose these messages serve."`
}

// Cookie is a cookie or similar technology.
type Cookie struct {
	Name        string   `yaml:"name" vow:"required" help:"Cookie name."`
	Category    string   `yaml:"category" vow:"required" help:"essential, functional, analytics or marketing."`
	Purpose     string   `yaml:"purpose" help:"Purpose key; a consent purpose unless essential."`
	Duration    Duration `yaml:"duration" help:"How long it lasts; session when omitted."`
	Provider    string   `yaml:"provider" help:"Who sets it: first-party or a company name."`
	Description string   `yaml:"description" help:"What it does."`
}

// Brakes are the limits of the brake: before an erasure or a retention
// run changes more of a table than one person (or one rule) plausibly
// owns, it stops and waits for an operator's approval.
type Brakes struct {
	Requests  *Brake `yaml:"requests" help:"For erasure requests; default share 10%, rows 1000."`
	Retention *Brake `yaml:"retention" help:"For retention runs; default share 50%, rows 10000. A rule may set its own."`
}

// Brake stops an operation that would change more than Share of a
// table's rows and more than Rows rows: both must be exceeded.
type Brake struct {
	Share Percent `yaml:"share" help:"Share of a table's rows, e.g. 10%."`
	Rows  int     `yaml:"rows" help:"Number of rows."`
}

// Notices are promises about the policy itself.
type Notices struct {
	Effective         Date `yaml:"effective" help:"Date this version takes effect (YYYY-MM-DD)."`
	ChangeNoticeDays  int  `yaml:"change_notice_days" help:"Days of notice before a material change takes effect."`
	MinimumAge        int  `yaml:"minimum_age" help:"Youngest age served."`
	BreachNoticeHours int  `yaml:"breach_notice_hours" help:"Hours within which a breach is notified; 72 when omitted."`
	Updated           Date `yaml:"updated" help:"Date the text was last changed (YYYY-MM-DD), shown as last updated."`
	// MinimumAges are ages that differ by jurisdiction; MinimumAge, when
	// also set, applies everywhere else.
	MinimumAges    []*RegionalAge `yaml:"minimum_ages" help:"Minimum ages by jurisdiction, e.g. [{region: the EU, age: 16}, {region: the United States, age: 13}]; minimum_age applies elsewhere."`
	Acceptance     string         `yaml:"acceptance" help:"How readers accept the policy: continued_use (using the service, and going on using it after a change takes effect, accepts it) or explicit (each version is accepted, as vow policy accept records)."`
	ChangeChannels []string       `yaml:"change_channels" help:"How material changes are announced: email, in_app, website."`
}

// RegionalAge is the youngest age served in one jurisdiction.
type RegionalAge struct {
	Region string `yaml:"region" vow:"required" help:"The jurisdiction, as readers name it, e.g. the EU."`
	Age    int    `yaml:"age" vow:"required" help:"Youngest age served there."`
}

// Vocabularies of the policy's statements about itself and its security.
var (
	Acceptances    = []string{"continued_use", "explicit"}
	ChangeChannels = []string{"email", "in_app", "website"}
	Laws           = []string{"gdpr", "uk_gdpr", "ccpa", "lgpd", "pipeda", "nfadp", "appi", "popia"}
	LegalGrounds   = []string{"law", "legal_process", "government_request", "protect_rights", "enforce_terms"}
	MeasureKinds   = []string{MeasureTransit, MeasureAtRest, MeasurePasswords, "access_control", "mfa", "audits", "monitoring", "backups", "isolation", "input_validation", "anonymisation", "incident_response", "hosting", "other"}
)

// Security measures Vow checks against the data map.
const (
	MeasureTransit   = "encryption_in_transit"
	MeasureAtRest    = "encryption_at_rest"
	MeasurePasswords = "password_hashing"
)

// Scope says who "we" are and what the policy covers.
type Scope struct {
	About    string   `yaml:"about" help:"Who we are, in a sentence or two for readers."`
	Services []string `yaml:"services" help:"The products, sites and apps the policy covers, e.g. the Acme app, acme.example."`
	Laws     []string `yaml:"laws" help:"Privacy laws the policy is written to meet: gdpr, uk_gdpr, ccpa, lgpd, pipeda, nfadp, appi, popia."`
}

// Promises are commitments no data map shows, so the rendered policy
// states each only when the policy declares it.
type Promises struct {
	NoSale        bool     `yaml:"no_sale" help:"Personal data is never sold or rented."`
	NoAdvertising bool     `yaml:"no_advertising" help:"Personal data is not shared with advertisers or used for third-party advertising; a marketing cookie contradicts it."`
	NoTraining    []string `yaml:"no_training" help:"Categories never used to train machine-learning models for other customers or third parties."`
	Confidential  []string `yaml:"confidential" help:"Categories kept strictly confidential: disclosed to no one without the reader's explicit permission; a processor receiving one contradicts it."`
}

// Disclosures are the cases, besides processors, where personal data
// leaves the company.
type Disclosures struct {
	Legal            *LegalDisclosure  `yaml:"legal" help:"Disclosure to authorities or courts when the law requires it."`
	BusinessTransfer *BusinessTransfer `yaml:"business_transfer" help:"Transfer to a successor in a merger, acquisition or sale of assets."`
	Team             bool              `yaml:"team" help:"People the reader invites to their team or organization see what is shared with it."`
}

// LegalDisclosure is disclosure required by law.
type LegalDisclosure struct {
	Grounds []string `yaml:"grounds" vow:"required" help:"law (a legal obligation), legal_process (subpoenas, court orders), government_request, protect_rights (our rights, property or safety), enforce_terms."`
	Notify  bool     `yaml:"notify" help:"The reader is told of a request where the law permits."`
}

// BusinessTransfer is the transfer of personal data to a successor.
type BusinessTransfer struct {
	SameCommitments bool `yaml:"same_commitments" help:"The successor is bound by this policy's commitments."`
	Notify          bool `yaml:"notify" help:"Readers are told before their information is transferred."`
}

// Security lists the security measures the policy declares.
type Security struct {
	Measures    []*Measure `yaml:"measures" help:"Security measures in place, each stated in the rendered policy."`
	NoGuarantee bool       `yaml:"no_guarantee" help:"Say that no method of transmission or storage is completely secure."`
}

// Measure is one security measure.
type Measure struct {
	Kind        string   `yaml:"kind" vow:"required" help:"encryption_in_transit, encryption_at_rest, password_hashing, access_control, mfa, audits, monitoring, backups, isolation, input_validation, anonymisation, incident_response, hosting, or other (with a description)."`
	Description string   `yaml:"description" help:"The measure in plain words, e.g. TLS 1.3 on every connection."`
	Categories  []string `yaml:"categories" help:"For encryption_at_rest: the categories it covers; every column holding one must be declared stored: encrypted (or hashed), which the content scan checks."`
}
