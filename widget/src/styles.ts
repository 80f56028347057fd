// Styles live inside the shadow root, so the host page's CSS cannot reach in and ours cannot leak out.
export const STYLES = `
:host{all:initial}
[hidden]{display:none!important}
*{box-sizing:border-box}
.root{position:fixed;bottom:20px;right:20px;z-index:2147483000;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827}
.root.left{right:auto;left:20px}
button{font:inherit;cursor:pointer}
.launcher{width:56px;height:56px;border-radius:50%;border:0;background:var(--p);color:var(--on);box-shadow:0 4px 14px rgba(0,0,0,.25);display:grid;place-items:center;margin-left:auto}
.left .launcher{margin-left:0}
.launcher svg{width:28px;height:28px;fill:currentColor}
.badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;border-radius:10px;background:#b91c1c;color:#fff;font-size:12px;display:grid;place-items:center;padding:0 5px}
.panel{display:none;flex-direction:column;width:370px;max-width:calc(100vw - 24px);height:560px;max-height:calc(100vh - 100px);background:#fff;border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.25);overflow:hidden;margin-bottom:12px}
.open .panel{display:flex}
header{display:flex;align-items:center;gap:10px;padding:12px 14px;background:var(--p);color:var(--on)}
header img{width:36px;height:36px;border-radius:50%;object-fit:cover;background:#fff}
header h2{font-size:16px;margin:0}
header p{margin:0;font-size:12px}
header .grow{flex:1;min-width:0}
.icon{background:transparent;border:0;color:inherit;width:36px;height:36px;border-radius:8px;display:grid;place-items:center}
.icon svg{width:20px;height:20px;fill:currentColor}
.icon:focus-visible,.launcher:focus-visible,.qr:focus-visible,textarea:focus-visible,.send:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.log{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:8px;background:#f3f4f6;margin:0;list-style:none}
.msg{max-width:82%;display:flex;flex-direction:column}
.msg .bubble{padding:8px 12px;border-radius:14px;background:#fff;white-space:pre-wrap;word-wrap:break-word;box-shadow:0 1px 1px rgba(0,0,0,.06)}
.msg.in{align-self:flex-end;align-items:flex-end}
.msg.in .bubble{background:var(--p);color:var(--on)}
.msg.system{align-self:center;max-width:92%}
.msg.system .bubble{background:transparent;box-shadow:none;color:#374151;font-size:12px;text-align:center}
.meta{font-size:11px;color:#4b5563;margin:2px 6px}
.msg.failed .meta{color:#b91c1c}
.msg img{max-width:220px;border-radius:8px;display:block;margin-top:4px}
.msg audio{max-width:230px;margin-top:4px}
.msg a{color:inherit}
.qrs{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}
.qr{border:1px solid var(--p);color:var(--pt);background:#fff;border-radius:16px;padding:5px 12px}
.typing{padding:0 16px 6px;font-size:12px;color:#4b5563;min-height:18px;background:#f3f4f6}
.status{padding:6px 14px;font-size:12px;background:#fef3c7;color:#78350f}
.status[hidden]{display:none}
form{display:flex;align-items:flex-end;gap:4px;padding:8px;border-top:1px solid #e5e7eb;background:#fff}
textarea{flex:1;resize:none;border:1px solid #9ca3af;border-radius:10px;padding:8px 10px;font:inherit;max-height:120px;min-height:38px;color:#111827}
form .icon{color:#374151}
.send{border:0;border-radius:10px;background:var(--p);color:var(--on);height:38px;padding:0 14px}
.rec{display:flex;align-items:center;gap:8px;flex:1;color:#b91c1c;font-size:13px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:480px){.root{bottom:12px;right:12px}.root.left{left:12px}.panel{height:calc(100vh - 90px)}}
@media (prefers-reduced-motion:no-preference){.panel{animation:rise .16s ease-out}@keyframes rise{from{opacity:0;transform:translateY(8px)}}}
`;
