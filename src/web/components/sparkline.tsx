// A daily sparkline as inline SVG (no chart library for a 120-pixel line): failure rate per day,
// bars for days with sessions, so a quiet day and a perfect day look different.
export function Sparkline({ daily, label }: { daily: { day: string; successful: number; failed: number }[]; label: string }) {
  const w = 120, h = 24, n = daily.length || 1, bw = w / n;
  return (
    <svg class="spark" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={label}>
      {daily.map((d, i) => {
        const total = d.successful + d.failed;
        if (!total) return null;
        const fh = Math.max(1, Math.round((d.failed / total) * h));
        return (
          <g key={d.day}>
            <rect x={i * bw} y={0} width={Math.max(bw - 0.5, 0.5)} height={h - fh} class="ok" />
            {d.failed > 0 && <rect x={i * bw} y={h - fh} width={Math.max(bw - 0.5, 0.5)} height={fh} class="bad" />}
          </g>
        );
      })}
    </svg>
  );
}
