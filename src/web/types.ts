// Shapes of the API documents the pages read: the server's own types (type-only imports, nothing
// of the server is bundled), so a renamed field fails `npm run typecheck` instead of showing
// "undefined" (it did: the outbound page read 'policy-domain' after the API said reportDomain).
export type { DomainHealth, Overview } from '../analysis/overview.js';
export type { DomainDetail } from '../analysis/domain-detail.js';
export type { InboundReportListItem as ReportListItem, InboundReportDetail as ReportDetail } from '../analysis/inbound-reports.js';
export type { FailureDetail } from '../rfc8460/types.js';
import type { ReportViewJson } from '../analysis/outbound-reports.js';
import type { OpenWindowView } from '../analysis/outbound-view.js';

export type { ReportViewJson as OutboundReport, TargetViewJson as OutboundTarget } from '../analysis/outbound-reports.js';
export type { OpenWindowView };

/** `GET /api/v1/ui/outbound` (src/http/routes/ui.ts). */
export interface OutboundView {
  windows: OpenWindowView[];
  total: number;
  reports: ReportViewJson[];
  now: string;
}
