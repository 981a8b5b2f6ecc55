//! Panes drawn again only when what they show has changed. A keystroke in the composer
//! changes the composer alone, yet every frame laid out the conversation and the list
//! again, grapheme by grapheme, and that was most of a frame's cost. A pane drawn here
//! is rendered only when its key differs from the last frame's; otherwise its cells are
//! copied from that frame. The key is either the hash of the widgets built as before
//! (`render_cached`: building is cheap next to rendering, and nothing can be missed), or
//! the hash of the pane's inputs, when they are few and plain (`render_keyed`: nothing
//! is built at all).

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use ratatui::Frame;
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::{Block, Paragraph, Widget};

/// The cells each cached pane was last drawn with, and what it was drawn from.
#[derive(Default)]
pub struct FrameCache(RefCell<HashMap<&'static str, Drawn>>);

struct Drawn {
    key: u64,
    cells: Vec<Cell>,
}

/// A bordered pane: its block, and what fills it.
#[derive(Hash)]
pub struct Pane<'a> {
    pub block: Block<'a>,
    pub body: Option<Paragraph<'a>>,
}

impl Widget for Pane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let inner = self.block.inner(area);
        self.block.render(area, buf);
        if let Some(body) = self.body {
            body.render(inner, buf);
        }
    }
}

/// Renders `widget` into `area`, or copies the cells it rendered last time when it and
/// the area are the same as then.
pub fn render_cached<W: Widget + Hash>(
    frame: &mut Frame<'_>,
    cache: &FrameCache,
    name: &'static str,
    base: Style,
    area: Rect,
    widget: W,
) {
    let mut hasher = DefaultHasher::new();
    widget.hash(&mut hasher);
    render_keyed(frame, cache, name, base, area, hasher.finish(), || widget);
}

/// Renders what `build` makes into `area` over the `base` style, or, when `key` (which
/// must stand for everything the pane shows) and the area are the same as last time,
/// copies the cells it rendered then without building anything.
pub fn render_keyed<W: Widget>(
    frame: &mut Frame<'_>,
    cache: &FrameCache,
    name: &'static str,
    base: Style,
    area: Rect,
    key: u64,
    build: impl FnOnce() -> W,
) {
    let buf = frame.buffer_mut();
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    let key = {
        let mut hasher = DefaultHasher::new();
        (key, area, base).hash(&mut hasher);
        hasher.finish()
    };
    let width = area.width as usize;
    let mut panes = cache.0.borrow_mut();
    if let Some(drawn) = panes.get(name).filter(|d| d.key == key) {
        for (y, cells) in (area.top()..area.bottom()).zip(drawn.cells.chunks(width)) {
            let start = buf.index_of(area.x, y);
            buf.content[start..start + width].clone_from_slice(cells);
        }
        return;
    }
    buf.set_style(area, base);
    build().render(area, buf);
    let mut cells = Vec::with_capacity(width * area.height as usize);
    for y in area.top()..area.bottom() {
        let start = buf.index_of(area.x, y);
        cells.extend_from_slice(&buf.content[start..start + width]);
    }
    panes.insert(name, Drawn { key, cells });
}

/// A key for `render_keyed`: the hash of everything a pane is drawn from.
pub fn key_of(inputs: impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    inputs.hash(&mut hasher);
    hasher.finish()
}
