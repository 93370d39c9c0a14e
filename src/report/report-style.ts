/** The report's only style sheet, inline: the file needs nothing from the network. */
export const REPORT_CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d2733;margin:0;background:#f5f7fa}
main{max-width:1320px;margin:0 auto;padding:24px}
header{background:#1d2733;color:#fff;padding:18px 24px}
header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:#c9d3df}
h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid #d5dde6;padding-bottom:4px}
h3{font-size:16px;margin:0 0 2px}
h4{font-size:13px;margin:12px 0 4px;color:#4a5a6c;text-transform:uppercase;letter-spacing:.03em}
.card{background:#fff;border:1px solid #d5dde6;border-radius:6px;padding:16px;margin:12px 0}
.summary{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px}
.figure{background:#fff;border:1px solid #d5dde6;border-radius:6px;padding:12px}
.figure .value{font-size:22px;font-weight:600}
.figure .label{color:#5b6b7d;font-size:12px}
.badge{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;font-weight:600;vertical-align:middle}
.badge.critical{background:#c9302c;color:#fff}.badge.warning{background:#f0ad4e;color:#1d2733}
.badge.ok{background:#dff0d8;color:#2b542c}.badge.insufficient{background:#e8eaed;color:#4a5a6c}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eef1f5;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.feature{background:#fff;border:1px solid #d5dde6;border-left:5px solid #9fb0c3;border-radius:6px;padding:16px;margin:14px 0}
.feature[data-drift="true"]{border-left-color:#c9302c}
.pair{display:grid;grid-template-columns:minmax(0,660px) minmax(0,1fr);gap:16px}
@media (max-width:1100px){.pair{grid-template-columns:1fr}}
svg{max-width:100%;height:auto;font-family:inherit}
.meta,.note{color:#5b6b7d;margin:0 0 8px}
footer{color:#5b6b7d;font-size:12px;margin:32px 0 12px}
`;
