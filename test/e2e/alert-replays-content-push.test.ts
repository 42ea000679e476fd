// The content and in-flight alert replays of alert-replays-content.test.ts with the session
// metrics pushed: the collector remote-writes them (collector/push.yaml) to Prometheus started
// with its remote-write receiver and a 60m lookback, and nothing scrapes its exporter page
// (docs/scale.md, "One machine, measured"). Every replay must fire the same alerts as when
// scraped; the benign session must fire nothing at any evaluation.
//
//   npm run build && flock /tmp/e2e.lock node --import tsx --test test/e2e/alert-replays-content-push.test.ts
process.env.MCP_AUDIT_REPLAY_METRICS_PATH = 'push';
await import('./alert-replays-content.test.js');
