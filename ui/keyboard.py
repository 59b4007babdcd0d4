"""Keyboard grading on the Search page: j/k or ArrowDown/ArrowUp move a visible focus between the
result rows (containers keyed ``result_<rank>``), 0-3 grade the focused row, u/d give it a thumbs
up/down, o opens it.

A small script in the page's own document (``st.html`` is not iframed) clicks the row's own buttons,
so what a key does is exactly what the click does (the Python side is the button's callback). Keys
typed into a text field never trigger a shortcut. The focus lives in the browser tab, so two tabs
never share it; it returns to the first row when a new search is shown.
"""

from __future__ import annotations

import streamlit as st

LEGEND = ("Keys: <b>j</b>/<b>k</b> or <b>↓</b>/<b>↑</b> move · <b>0</b>–<b>3</b> grade · "
          "<b>u</b>/<b>d</b> thumbs up/down · <b>o</b> open")

SCRIPT = """<script>
(() => {
  if (window.__ltrrKeys) return;  // one listener per browser tab, whatever the reruns
  const state = window.__ltrrKeys = {focus: 1, search: null};
  const TYPING = 'input, textarea, select, [contenteditable="true"], [role="textbox"], [role="combobox"]';
  const legend = () => document.querySelector('.ltrr-keys');
  const row = (rank) => document.querySelector('.st-key-result_' + rank);
  const rowCount = () => { let n = 0; while (row(n + 1)) n++; return n; };
  const apply = () => {
    const l = legend();
    if (!l) return;
    if (l.dataset.search !== state.search) { state.search = l.dataset.search; state.focus = 1; }
    const target = row(state.focus);
    document.querySelectorAll('[data-ltrr-focus]').forEach((el) => { if (el !== target) el.removeAttribute('data-ltrr-focus'); });
    if (target && !target.hasAttribute('data-ltrr-focus')) target.setAttribute('data-ltrr-focus', '');
  };
  const press = (selector) => { const b = row(state.focus)?.querySelector(selector); if (b) b.click(); return !!b; };
  const grade = (g) => {
    const b = row(state.focus)?.querySelectorAll('[data-testid="stButtonGroup"] [role="radio"]')[g];
    if (!b) return false;
    if (b.getAttribute('aria-checked') !== 'true') b.click();  // a second press never clears it
    return true;
  };
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented || !legend()) return;
    if (e.target.closest && e.target.closest(TYPING)) return;
    const n = rowCount();
    if (!n) return;
    apply();
    let done = true;
    if (e.key === 'j' || e.key === 'ArrowDown') state.focus = Math.min(n, state.focus + 1);
    else if (e.key === 'k' || e.key === 'ArrowUp') state.focus = Math.max(1, state.focus - 1);
    else if (/^[0-3]$/.test(e.key)) done = grade(Number(e.key));
    else if (e.key === 'u') done = press('[class*="st-key-up_"] button');
    else if (e.key === 'd') done = press('[class*="st-key-down_"] button');
    else if (e.key === 'o') done = press('[class*="st-key-open_"] button');
    else done = false;
    if (!done) return;
    e.preventDefault();
    apply();
    row(state.focus)?.scrollIntoView({block: 'nearest'});
  }, true);
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; apply(); });
  }).observe(document.body, {childList: true, subtree: true});
  apply();
})();
</script>"""


def keyboard_grading(search_id: int | None) -> None:
    """The one-line key legend and, once per browser tab, the key listener; ``search_id`` marks the
    search shown (a new one puts the focus back on the first row)."""
    st.html(f'<div class="ltrr-keys" data-search="{search_id}" style="font-size:0.85rem;opacity:0.75">'
            f"{LEGEND}</div>{SCRIPT}", unsafe_allow_javascript=True)
