import type { PrometheusAlert } from '../../src/integrations/prometheus.js';
import { ServiceEmulator } from './base.js';

/** Prometheus `GET /api/v1/alerts` with an optional bearer token check. */
export class PrometheusEmulator extends ServiceEmulator {
  alerts: PrometheusAlert[] = [];
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  token: string | undefined;
  /** Alert lists served so far. */
  answered = 0;
  /** Called with the number of this answer before the alerts are read: a test changes them at an exact poll. */
  beforeAnswer: ((answer: number) => void) | undefined;

  constructor() {
    super('prometheus');
    this.server.route('GET', '/api/v1/alerts', (req) => {
      if (this.token && req.headers.authorization !== `Bearer ${this.token}`) return { status: 401, body: 'Unauthorized\n' };
      this.answered += 1;
      this.beforeAnswer?.(this.answered);
      return { status: 200, body: { status: 'success', data: { alerts: this.alerts } } };
    });
  }

  /**
   * An alert as Prometheus reports it: labels (alertname, severity, namespace when given, any
   * others such as exported_namespace or job), state, activeAt, value.
   */
  addAlert(alert: { name: string; severity: string; namespace?: string; labels?: Record<string, string>; state?: 'firing' | 'pending'; summary?: string }): void {
    this.alerts.push({
      labels: { alertname: alert.name, severity: alert.severity, ...(alert.namespace ? { namespace: alert.namespace } : {}), ...alert.labels },
      annotations: alert.summary ? { summary: alert.summary } : {},
      state: alert.state ?? 'firing',
      activeAt: new Date(Date.now() - 600_000).toISOString(),
      value: '1e+00',
    });
  }
}
