package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/vowprivacy/vow/mailer"
	"github.com/vowprivacy/vow/render"
	"github.com/vowprivacy/vow/server"
	"github.com/vowprivacy/vow/versions"
)

// vow serve publishes the policy at stable public URLs (see
// versions.Service.Routes), records acceptances through the API
// (POST /v1/policy/acceptances, GET /v1/policy/acceptances/{subject}, scope
// consent) and sends due change notices every minute.

func policyService(env *serveEnv) (*versions.Service, error) {
	r, err := render.New(render.Options{Dir: os.Getenv("VOW_TEMPLATES")})
	if err != nil {
		return nil, err
	}
	return &versions.Service{Store: env.Store, Renderer: r, Keys: env.Keyring}, nil
}

func mountPolicy(env *serveEnv, mux *server.Mux) error {
	svc, err := policyService(env)
	if err != nil {
		return err
	}
	svc.Mount(mux)
	return nil
}

// policyNoticeInterval is how often vow serve looks for due notices.
const policyNoticeInterval = time.Minute

func policyNoticeWorker(ctx context.Context, env *serveEnv) error {
	svc, err := policyService(env)
	if err != nil {
		return err
	}
	snd := versions.Sender{BaseURL: env.BaseURL, Webhooks: vowWebhooks(), Secret: noticeSecret(env.Keyring)}
	if snd.Mail, err = mailer.FromEnv(); err != nil {
		if !errors.Is(err, mailer.ErrNotConfigured) {
			return err
		}
		env.Logger.Info("policy notices: VOW_SMTP_URL is not set; only webhook notices are sent")
	}
	t := time.NewTicker(policyNoticeInterval)
	defer t.Stop()
	for {
		done, err := svc.SendDue(ctx, snd)
		if err != nil {
			env.Logger.Warn("policy notices", "err", err)
		}
		for _, n := range done {
			if n.Status == "failed" {
				env.Logger.Warn("policy notice failed", "notice", n.ID, "version", n.VersionID, "channel", n.Channel, "attempt", n.Attempts, "err", n.LastError)
			} else {
				env.Logger.Info("policy notice sent", "notice", n.ID, "version", n.VersionID, "channel", n.Channel)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
