package dsr

import "time"

// SetWebhookBackoff shortens webhook retries for tests.
func SetWebhookBackoff(s *Service, d time.Duration) { s.webhookBackoff = d }

// SetCrashHook makes s call hook at every step boundary of an erasure,
// with the point's name; the hook may panic to crash the run there.
func SetCrashHook(s *Service, hook func(point string)) { s.crashHook = hook }

// StoreBelow is the size under which an access package stores a file
// rather than deflating it.
const StoreBelow = storeBelow
