/**
 * @module The console's stylesheet and script, kept as strings so that they are part of the
 * bundle: `bun run dev` serves them from source and `dist/telehook` from inside the executable,
 * with nothing fetched from elsewhere.
 */

export const CSS = `
:root{--fg:#1b1f24;--muted:#5b6470;--bg:#fff;--panel:#f5f7f9;--line:#d9dee4;--accent:#0b5cad;
--ok:#1a7f37;--warn:#9a6700;--bad:#c62828;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg);line-height:1.45}
*{box-sizing:border-box}body{margin:0}
a{color:var(--accent)}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px 8px;z-index:9}
header{background:#132235;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center}
header .brand{font-weight:700;margin-right:.5rem}
header nav{display:flex;flex-wrap:wrap;gap:.25rem;flex:1}
header nav a{color:#dce7f3;text-decoration:none;padding:.35rem .6rem;border-radius:4px}
header nav a[aria-current=page]{background:#2b4a6f;color:#fff}
header nav a:hover,header nav a:focus-visible{background:#24405f;color:#fff}
header form{margin:0}
main{padding:1rem;max-width:1200px;margin:0 auto}
h1{font-size:1.4rem;margin:.25rem 0 1rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
:focus-visible{outline:3px solid #f0a500;outline-offset:2px}
button,.button{white-space:nowrap;font:inherit;padding:.4rem .8rem;border-radius:4px;border:1px solid var(--accent);
background:var(--accent);color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary,.button.secondary{background:#fff;color:var(--accent)}
button.danger{background:var(--bad);border-color:var(--bad)}
header button{background:transparent;border-color:#8fa7c2;color:#fff;padding:.25rem .6rem}
input,select,textarea{font:inherit;padding:.35rem .5rem;border:1px solid #8a949f;border-radius:4px;max-width:100%}
label{display:flex;flex-direction:column;gap:.15rem;font-size:.9rem;color:var(--muted)}
label>input,label>select{color:var(--fg)}
form.filters,form.inline-fields{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end;margin:0 0 1rem}
form.inline{display:inline}
.table-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:6px}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--panel);font-weight:600;white-space:nowrap}
tr:last-child td{border-bottom:0}
tr.new{animation:flash 2s ease-out}@keyframes flash{from{background:#fff5c2}to{background:transparent}}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}
pre{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.75rem;overflow:auto;max-height:28rem;white-space:pre-wrap;word-break:break-word}
.muted{color:var(--muted)}
.badge{display:inline-block;padding:0 .45rem;border-radius:999px;font-size:.8rem;border:1px solid currentColor;white-space:nowrap}
.badge.ok{color:var(--ok)}.badge.warn{color:var(--warn)}.badge.bad{color:var(--bad)}.badge.info{color:var(--accent)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(128px,1fr));gap:.75rem;margin-bottom:1rem}
.card{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.6rem .8rem}
.card .label{font-size:.8rem;color:var(--muted)}.card .value{font-size:1.5rem;font-weight:600}
.card a{text-decoration:none;color:inherit}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}
dl.fields dt{color:var(--muted)}dl.fields dd{margin:0;word-break:break-word}
.notice{padding:.6rem .8rem;border-radius:6px;margin:0 0 1rem;border:1px solid}
.notice.ok{background:#eaf6ec;border-color:#9fd3aa}.notice.bad{background:#fdecea;border-color:#f1a9a4}
.notice.secret{background:#fff8e1;border-color:#f0c36d}
.secret-value{font-size:1rem;user-select:all;word-break:break-all}
figure{margin:0 0 1rem}figcaption{font-size:.85rem;color:var(--muted)}
svg.chart{width:100%;height:auto;display:block;background:#fff;border:1px solid var(--line);border-radius:6px}
.legend{display:flex;flex-wrap:wrap;gap:.3rem 1rem;font-size:.85rem;margin:.4rem 0;padding:0;list-style:none}
.legend i{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.3rem;vertical-align:-1px}
.pager{margin:.75rem 0}
.thread{list-style:none;padding:0;margin:0;display:flex;flex-direction:column;gap:.75rem}
.msg{max-width:min(34rem,92%);border:1px solid var(--line);border-radius:10px;padding:.5rem .75rem;background:var(--panel)}
.msg.outgoing{align-self:flex-end;background:#e8f1fb;border-color:#b9d2ee}
.msg .meta{font-size:.8rem;color:var(--muted);display:flex;flex-wrap:wrap;gap:.25rem .6rem}
.msg .content{white-space:pre-wrap;word-break:break-word;margin:.25rem 0}
.msg .reply{font-size:.85rem;border-left:3px solid #b9d2ee;padding-left:.5rem;margin-top:.35rem}
ol.timeline{list-style:none;margin:.35rem 0 0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem .4rem;font-size:.8rem}
ol.timeline li+li::before{content:"→ ";color:var(--muted)}
.signin{max-width:24rem;margin:10vh auto;padding:1.5rem;border:1px solid var(--line);border-radius:8px}
.signin form{display:flex;flex-direction:column;gap:.75rem}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
@media (max-width:600px){header{justify-content:space-between}header nav{order:3;flex-basis:100%}main{padding:.6rem}th,td{padding:.35rem .4rem}h1{font-size:1.2rem}}
`

/** The live log (server-sent events) and nothing else: every page works without it. */
export const SCRIPT = `(() => {
  const body = document.querySelector('[data-stream]')
  const status = document.getElementById('live-status')
  if (body && 'EventSource' in window) {
    const source = new EventSource(body.dataset.stream)
    const say = (text) => { if (status) status.textContent = text }
    source.addEventListener('open', () => say('Live: new deliveries appear at the top.'))
    source.addEventListener('error', () => say('Live updates interrupted; reconnecting…'))
    source.addEventListener('delivery', (e) => {
      const t = document.createElement('template')
      t.innerHTML = e.data
      const row = t.content.firstElementChild
      if (!row || document.getElementById(row.id)) return
      document.getElementById('no-events')?.remove()
      row.classList.add('new')
      body.prepend(row)
    })
  }
})()
`
