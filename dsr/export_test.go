package dsr

import "time"

// SetWebhookBackoff shortens webhook retries for tests.
func SetWebhookBackoff(s *Service, d time.Duration) { s.webhookBackoff = d }
