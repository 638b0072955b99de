// vlist.js: a virtualised list of fixed-height rows. Only the rows in view
// (plus a few either side) exist in the DOM, so a run of 100,000 steps costs
// the same to show and scroll as one of 50. The container is one focusable
// listbox/tree: arrows, j/k, Page Up/Down, Home/End move the selection,
// Enter activates, Left/Right go to onCollapse/onExpand; the selected row is
// its aria-activedescendant.
import { h } from './util.js';

let nextId = 0;

export class VList {
  // opts: rowHeight, role ('listbox' | 'tree'), label, fitContent, render(index, el)
  // (fill the row element), onSelect(index), onActivate(index),
  // onCollapse(index), onExpand(index), onScrollUp() (the user left the end).
  constructor(opts) {
    this.opts = opts;
    this.rowHeight = opts.rowHeight || 30;
    this.count = 0;
    this.selected = -1;
    this.prefix = 'vl' + nextId++;
    this.rows = new Map();  // index -> element in the DOM
    this.spacer = h('div', { class: 'vl-spacer' });
    this.el = h('div', {
      class: 'vlist', tabindex: '0', role: opts.role || 'listbox', 'aria-label': opts.label || 'list',
    }, this.spacer);
    this.el.addEventListener('scroll', () => this.schedule(), { passive: true });
    this.el.addEventListener('keydown', (e) => this.onKey(e));
    this.el.addEventListener('click', (e) => {
      const row = e.target.closest('.vl-row');
      if (!row || e.target.closest('a,button')) return;
      const i = Number(row.dataset.index);
      this.select(i, false);
      this.opts.onActivate?.(i, e);
    });
    this.lastScrollTop = 0;
    new ResizeObserver(() => this.schedule()).observe(this.el);
  }

  setCount(n) {
    this.count = n;
    this.spacer.style.height = n * this.rowHeight + 'px';
    // fitContent: as tall as its rows, so a short list leaves no empty box
    // (the parent's flex layout still caps it for a long one)
    if (this.opts.fitContent) this.el.style.height = Math.max(n, 2) * this.rowHeight + 'px';
    if (this.selected >= n) this.selected = n - 1;
    this.invalidate();
  }

  // Re-render every row in view (their data changed), at the next draw: the
  // old rows stay until then, so the list never sits empty between a change
  // and the frame that redraws it.
  invalidate() {
    this.stale = true;
    this.schedule();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.draw(); });
  }

  // Draws now (a view measuring its first screen calls this).
  draw() {
    if (this.stale) {
      this.stale = false;
      for (const el of this.rows.values()) el.remove();
      this.rows.clear();
    }
    const top = this.el.scrollTop;
    if (top < this.lastScrollTop - 2) this.opts.onScrollUp?.();
    this.lastScrollTop = top;
    const height = this.el.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / this.rowHeight) - 8);
    const last = Math.min(this.count - 1, Math.ceil((top + height) / this.rowHeight) + 8);
    for (const [i, el] of this.rows) {
      if (i < first || i > last) { el.remove(); this.rows.delete(i); }
    }
    for (let i = first; i <= last; i++) {
      let el = this.rows.get(i);
      if (!el) {
        el = h('div', { class: 'vl-row', role: this.opts.role === 'tree' ? 'treeitem' : 'option', id: this.prefix + '-' + i });
        el.dataset.index = i;
        el.style.top = i * this.rowHeight + 'px';
        el.style.height = this.rowHeight + 'px';
        this.opts.render(i, el);
        this.el.append(el);
        this.rows.set(i, el);
      }
      const sel = i === this.selected;
      el.classList.toggle('selected', sel);
      el.setAttribute('aria-selected', sel ? 'true' : 'false');
    }
    if (this.selected >= 0) this.el.setAttribute('aria-activedescendant', this.prefix + '-' + this.selected);
    else this.el.removeAttribute('aria-activedescendant');
  }

  select(i, scroll = true) {
    if (this.count === 0) return;
    i = Math.max(0, Math.min(this.count - 1, i));
    this.selected = i;
    if (scroll) this.scrollTo(i);
    this.schedule();
    this.opts.onSelect?.(i);
  }

  scrollTo(i) {
    const y = i * this.rowHeight;
    const h0 = this.el.clientHeight;
    if (y < this.el.scrollTop) this.el.scrollTop = y;
    else if (y + this.rowHeight > this.el.scrollTop + h0) this.el.scrollTop = y + this.rowHeight - h0;
  }

  scrollToEnd() {
    this.el.scrollTop = this.count * this.rowHeight;
    this.lastScrollTop = this.el.scrollTop;
    this.schedule();
  }

  atEnd() {
    return this.el.scrollTop + this.el.clientHeight >= this.count * this.rowHeight - this.rowHeight;
  }

  onKey(e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const page = Math.max(1, Math.floor(this.el.clientHeight / this.rowHeight) - 1);
    const cur = this.selected < 0 ? -1 : this.selected;
    const moves = {
      ArrowDown: cur + 1, j: cur + 1, ArrowUp: cur - 1, k: cur - 1,
      PageDown: cur + page, PageUp: cur - page, Home: 0, End: this.count - 1,
    };
    if (e.key in moves) {
      e.preventDefault();
      this.select(moves[e.key]);
    } else if (e.key === 'Enter' && cur >= 0) {
      e.preventDefault();
      this.opts.onActivate?.(cur, e);
    } else if (e.key === 'ArrowLeft' && cur >= 0 && this.opts.onCollapse) {
      e.preventDefault();
      this.opts.onCollapse(cur);
    } else if (e.key === 'ArrowRight' && cur >= 0 && this.opts.onExpand) {
      e.preventDefault();
      this.opts.onExpand(cur);
    }
  }
}
