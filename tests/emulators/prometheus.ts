import type { PrometheusAlert } from '../../src/integrations/prometheus.js';
import { EmulatorServer, type Fault } from './base.js';

/** Prometheus `GET /api/v1/alerts` with an optional bearer token check. */
export class PrometheusEmulator {
  readonly server = new EmulatorServer('prometheus');
  alerts: PrometheusAlert[] = [];
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  token: string | undefined;

  constructor() {
    this.server.route('GET', '/api/v1/alerts', (req) => {
      if (this.token && req.headers.authorization !== `Bearer ${this.token}`) return { status: 401, body: 'Unauthorized\n' };
      return { status: 200, body: { status: 'success', data: { alerts: this.alerts } } };
    });
  }

  get url(): string {
    return this.server.url;
  }
  start(): Promise<string> {
    return this.server.start();
  }
  stop(): Promise<void> {
    return this.server.stop();
  }
  inject(fault: Fault): this {
    this.server.inject(fault);
    return this;
  }

  /** An alert as Prometheus reports it: labels (alertname, severity, namespace), state, activeAt, value. */
  addAlert(alert: { name: string; severity: string; namespace: string; state?: 'firing' | 'pending'; summary?: string }): void {
    this.alerts.push({
      labels: { alertname: alert.name, severity: alert.severity, namespace: alert.namespace },
      annotations: alert.summary ? { summary: alert.summary } : {},
      state: alert.state ?? 'firing',
      activeAt: new Date(Date.now() - 600_000).toISOString(),
      value: '1e+00',
    });
  }
}
