// Shapes of the API documents the pages read (mirrors src/analysis/*.ts and src/http/routes/*.ts;
// kept by hand because the UI is built separately from the server code).
export interface DailyPoint { day: string; successful: number; failed: number }

export interface DomainHealth {
  policyDomain: string;
  successful: number;
  failed: number;
  failureRate: number;
  reports: number;
  reporters: number;
  daily: DailyPoint[];
  topFailingMx: { receivingMxHostname: string | null; failed: number } | null;
  topResultType: { resultType: string; failed: number } | null;
  warnings: { code: string; message: string }[];
}

export interface Overview {
  from: string;
  to: string;
  domains: DomainHealth[];
  sending: {
    domainsReportedOn: number;
    openWindows: number;
    openWindowSessions: { successful: number; failed: number };
    reportsWaiting: number;
    targetsRetrying: number;
    reportsFailed: number;
  };
}

export interface DomainDetail {
  policyDomain: string;
  from: string;
  to: string;
  totals: { successful: number; failed: number; reports: number };
  daily: (DailyPoint & { byResultType: Record<string, number> })[];
  resultTypes: string[];
  byReporter: { reporter: string; organizationName: string; successful: number; failed: number; reports: number; firstDay: string; lastDay: string }[];
  byReceivingMx: { receivingMxHostname: string | null; receivingIp: string | null; failed: number; resultTypes: string[] }[];
  bySendingIp: { sendingMtaIp: string | null; failed: number }[];
  policies: { policyType: string; policyString: string[]; mxHost: string[]; reports: number; firstDay: string; lastDay: string }[];
}

export interface ReportListItem {
  id: number;
  reporter: string;
  organizationName: string;
  reportId: string;
  startDatetime: string;
  endDatetime: string;
  day: string;
  policyDomains: string[];
  successful: number;
  failed: number;
  findingsCount: number;
  channel: string;
  receivedAt: string;
  dkim: { result: string; domain: string | null; aligned: boolean };
}

export interface FailureDetail {
  resultType: string;
  sendingMtaIp?: string;
  receivingMxHostname?: string;
  receivingMxHelo?: string;
  receivingIp?: string;
  failedSessionCount: number;
  additionalInformation?: string;
  failureReasonCode?: string;
  extra?: Record<string, unknown>;
}

export interface ReportDetail extends ReportListItem {
  contactInfo: string | null;
  peer: string | null;
  source: string | null;
  envelope: { mailFrom?: string; rcptTo?: string[] } | null;
  dkim: ReportListItem['dkim'] & Record<string, unknown>;
  report: {
    organizationName: string;
    dateRange: { startDatetime: string; endDatetime: string };
    contactInfo?: string;
    reportId: string;
    policies: {
      policy: { policyType: string; policyString: string[]; policyDomain: string; mxHost: string[]; extra?: Record<string, unknown> };
      summary: { totalSuccessfulSessionCount: number; totalFailureSessionCount: number };
      failureDetails: FailureDetail[];
    }[];
  };
  findings: { code: string; path?: string; message: string }[];
  payload: string;
}

export interface OutboundTarget {
  uri: string;
  state: string;
  attempts: number;
  'next-attempt-at'?: string;
  'last-attempt-at'?: string;
  'last-error'?: string;
  'sent-at'?: string;
  'sent-detail'?: string;
}

export interface OutboundReport {
  id: number;
  'report-id'?: string;
  'policy-domain': string;
  'window-start': string;
  'window-end': string;
  state: string;
  reason?: string;
  'due-at': string;
  bytes?: number;
  targets: OutboundTarget[];
}

export interface OutboundView {
  windows: { id: number; policyDomain: string; windowStart: string; windowEnd: string; frequency: string; successful: number; failed: number; policies: number }[];
  total: number;
  reports: OutboundReport[];
  now: string;
}
