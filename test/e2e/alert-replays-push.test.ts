// The end-to-end alert replays of alert-replays.test.ts with the session metrics pushed: the
// collector remote-writes them (collector/push.yaml) to Prometheus started with its remote-write
// receiver and a 60m lookback, and nothing scrapes its exporter page (docs/scale.md, "One machine,
// measured"). Every replay must fire the same alerts, with the same labels, as when scraped; the
// benign session must fire nothing.
//
//   npm run build && flock /tmp/e2e.lock node --import tsx --test test/e2e/alert-replays-push.test.ts
process.env.MCP_AUDIT_REPLAY_METRICS_PATH = 'push';
await import('./alert-replays.test.js');
