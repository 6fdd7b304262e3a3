// Package notifier delivers stage transitions to webhooks, Slack and
// logs. The binary is cmd/notifier; the logic lives under internal/.
package notifier
