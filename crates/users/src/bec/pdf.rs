//! A small page layout for text reports on A4 with PDF's builtin Helvetica: headings, wrapped
//! paragraphs, key/value lines and tables, with automatic page breaks and page numbers. It
//! knows nothing about BEC; [`super::report`] decides what goes on the pages.
//!
//! Everything drawn is plain text in a builtin font, so no text can become markup, a link or an
//! action. The builtin fonts can only show WinAnsi (Latin-1 and a few typographic marks), so
//! [`printable`] reduces every text to what they can show before it is measured and drawn.

use printpdf::{
    BuiltinFont, Color, Line, LinePoint, Mm, Op, PdfDocument, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Pt, Rgb, TextItem,
};

const PAGE_WIDTH: f32 = 210.0;
const PAGE_HEIGHT: f32 = 297.0;
const MARGIN_SIDE: f32 = 16.0;
const MARGIN_TOP: f32 = 18.0;
/// Room below the body for the footer line with the page number.
const MARGIN_BOTTOM: f32 = 18.0;
const FOOTER_Y: f32 = 10.0;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN_SIDE;
const MM_PER_PT: f32 = 25.4 / 72.0;
/// Space between a table's columns.
const CELL_PADDING: f32 = 1.6;
/// A table cell shows at most this many lines: one long value (a rule's description, a
/// subject) must not push a row past a page's height.
const MAX_CELL_LINES: usize = 6;
/// Width of the key column of key/value lines.
const KEY_WIDTH: f32 = 48.0;

/// Helvetica's advance widths (thousandths of an em) for ASCII 0x20..=0x7E, from the font's
/// published metrics.
const HELVETICA_WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278,
    278, // ' '..'/'
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584,
    556, // '0'..'?'
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722,
    778, // '@'..'O'
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469,
    556, // 'P'..'_'
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556,
    556, // '`'..'o'
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // 'p'..'~'
];
/// Helvetica-Bold is at most about 56 units wider per character than Helvetica in ASCII;
/// measuring bold as regular plus this never underestimates a line.
const BOLD_EXTRA: u16 = 60;
/// Characters beyond ASCII are measured as wide as the widest Latin-1 letters, so a line of
/// them may wrap early but never runs past the margin.
const WIDE: u16 = 1000;

/// The text styles a report uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Title,
    Heading,
    Subheading,
    Body,
    Bold,
    Small,
}

impl Style {
    fn font(self) -> BuiltinFont {
        match self {
            Style::Title | Style::Heading | Style::Subheading | Style::Bold => {
                BuiltinFont::HelveticaBold
            }
            Style::Body | Style::Small => BuiltinFont::Helvetica,
        }
    }

    fn size(self) -> f32 {
        match self {
            Style::Title => 18.0,
            Style::Heading => 13.0,
            Style::Subheading => 10.5,
            Style::Body | Style::Bold => 8.5,
            Style::Small => 7.5,
        }
    }

    fn bold(self) -> bool {
        self.font() == BuiltinFont::HelveticaBold
    }

    /// The distance between two baselines, in millimetres.
    fn line_height(self) -> f32 {
        self.size() * 1.3 * MM_PER_PT
    }

    fn grey(self) -> bool {
        self == Style::Small
    }
}

/// A table column: its header and its share of the content width (shares need not add up to 1;
/// they are scaled to fit).
#[derive(Debug, Clone, Copy)]
pub struct Column<'a> {
    pub header: &'a str,
    pub share: f32,
}

impl<'a> Column<'a> {
    pub const fn new(header: &'a str, share: f32) -> Self {
        Self { header, share }
    }
}

/// A document being laid out: finished pages, the page being filled and where the next line goes.
pub struct PdfWriter {
    title: String,
    footer: String,
    pages: Vec<Vec<Op>>,
    current: Vec<Op>,
    /// Millimetres from the bottom edge to the top of the next line.
    y: f32,
}

impl PdfWriter {
    /// A document whose metadata title is `title`; every page's footer shows `footer` beside
    /// the page number.
    pub fn new(title: &str, footer: &str) -> Self {
        Self {
            title: printable(title),
            footer: printable(footer),
            pages: Vec::new(),
            current: Vec::new(),
            y: PAGE_HEIGHT - MARGIN_TOP,
        }
    }

    pub fn title(&mut self, text: &str) {
        self.lines(Style::Title, text, MARGIN_SIDE, CONTENT_WIDTH);
        self.space(2.0);
    }

    /// A section heading with a rule under it, kept on the same page as the first lines after it.
    pub fn heading(&mut self, text: &str) {
        self.keep_room(Style::Heading.line_height() + 4.0 * Style::Body.line_height() + 6.0);
        self.space(3.0);
        self.lines(Style::Heading, text, MARGIN_SIDE, CONTENT_WIDTH);
        let y = self.y + 0.6;
        self.rule(y);
        self.space(1.8);
    }

    pub fn subheading(&mut self, text: &str) {
        self.keep_room(Style::Subheading.line_height() + 3.0 * Style::Body.line_height() + 2.0);
        self.space(1.5);
        self.lines(Style::Subheading, text, MARGIN_SIDE, CONTENT_WIDTH);
        self.space(0.6);
    }

    /// Body text wrapped to the content width.
    pub fn paragraph(&mut self, text: &str) {
        self.lines(Style::Body, text, MARGIN_SIDE, CONTENT_WIDTH);
    }

    /// A smaller grey note (caps, notes on what was left out).
    pub fn note(&mut self, text: &str) {
        self.lines(Style::Small, text, MARGIN_SIDE, CONTENT_WIDTH);
    }

    /// `key` in bold in a column of its own, `value` wrapped beside it.
    pub fn key_value(&mut self, key: &str, value: &str) {
        let key_lines = wrap(&printable(key), Style::Bold, KEY_WIDTH - CELL_PADDING);
        let value_lines = wrap(&printable(value), Style::Body, CONTENT_WIDTH - KEY_WIDTH);
        let count = key_lines.len().max(value_lines.len()).max(1);
        self.keep_room(count as f32 * Style::Body.line_height());
        let top = self.y;
        self.draw_lines(Style::Bold, &key_lines, MARGIN_SIDE, top);
        self.draw_lines(Style::Body, &value_lines, MARGIN_SIDE + KEY_WIDTH, top);
        self.y = top - count as f32 * Style::Body.line_height();
    }

    /// A table: a bold header row (repeated on every page the table continues on) and one row
    /// per entry, each cell wrapped within its column and cut at [`MAX_CELL_LINES`] lines.
    pub fn table(&mut self, columns: &[Column<'_>], rows: &[Vec<String>]) {
        if columns.is_empty() {
            return;
        }
        let total: f32 = columns.iter().map(|c| c.share.max(0.01)).sum();
        let widths: Vec<f32> = columns
            .iter()
            .map(|c| c.share.max(0.01) / total * CONTENT_WIDTH)
            .collect();
        let header: Vec<String> = columns.iter().map(|c| c.header.to_owned()).collect();
        let header_height = self.row_height(&header, &widths, Style::Bold);
        let first_row = rows
            .first()
            .map_or(0.0, |row| self.row_height(row, &widths, Style::Body));
        self.keep_room(header_height + first_row + 1.0);
        self.row(&header, &widths, Style::Bold);
        for row in rows {
            let height = self.row_height(row, &widths, Style::Body);
            if self.y - height < MARGIN_BOTTOM {
                self.new_page();
                self.row(&header, &widths, Style::Bold);
            }
            self.row(row, &widths, Style::Body);
        }
        self.space(1.5);
    }

    pub fn space(&mut self, mm: f32) {
        self.y -= mm;
        if self.y < MARGIN_BOTTOM {
            self.new_page();
        }
    }

    /// The finished PDF: every page gets its footer ("Page i of n") now that n is known.
    pub fn finish(mut self) -> Vec<u8> {
        if !self.current.is_empty() || self.pages.is_empty() {
            self.pages.push(std::mem::take(&mut self.current));
        }
        let count = self.pages.len();
        let pages: Vec<PdfPage> = self
            .pages
            .into_iter()
            .enumerate()
            .map(|(index, mut ops)| {
                let number = format!("Page {} of {count}", index + 1);
                let number_width = text_width(&number, Style::Small);
                push_text(&mut ops, Style::Small, &self.footer, MARGIN_SIDE, FOOTER_Y);
                push_text(
                    &mut ops,
                    Style::Small,
                    &number,
                    PAGE_WIDTH - MARGIN_SIDE - number_width,
                    FOOTER_Y,
                );
                PdfPage::new(Mm(PAGE_WIDTH), Mm(PAGE_HEIGHT), ops)
            })
            .collect();
        // Warnings are about fonts and images this layout never uses; nothing to act on.
        let mut warnings = Vec::new();
        PdfDocument::new(&self.title)
            .with_pages(pages)
            .save(&PdfSaveOptions::default(), &mut warnings)
    }

    fn row(&mut self, cells: &[String], widths: &[f32], style: Style) {
        let top = self.y;
        let mut x = MARGIN_SIDE;
        let mut count = 1;
        for (index, width) in widths.iter().enumerate() {
            let text = cells.get(index).map(String::as_str).unwrap_or_default();
            let lines = cell_lines(text, style, *width);
            count = count.max(lines.len());
            self.draw_lines(style, &lines, x, top);
            x += width;
        }
        self.y = top - count as f32 * style.line_height() - 0.8;
        if style == Style::Bold {
            let y = self.y + 0.4;
            self.rule(y);
            self.y -= 0.6;
        }
    }

    fn row_height(&self, cells: &[String], widths: &[f32], style: Style) -> f32 {
        let count = widths
            .iter()
            .enumerate()
            .map(|(index, width)| {
                let text = cells.get(index).map(String::as_str).unwrap_or_default();
                cell_lines(text, style, *width).len()
            })
            .max()
            .unwrap_or(1)
            .max(1);
        count as f32 * style.line_height() + 0.8
    }

    /// Wraps and draws `text` from the current line down, breaking pages between lines.
    fn lines(&mut self, style: Style, text: &str, x: f32, width: f32) {
        for line in wrap(&printable(text), style, width) {
            self.keep_room(style.line_height());
            let top = self.y;
            self.draw_lines(style, std::slice::from_ref(&line), x, top);
            self.y = top - style.line_height();
        }
    }

    /// Draws already wrapped lines whose first line's top is at `top`.
    fn draw_lines(&mut self, style: Style, lines: &[String], x: f32, top: f32) {
        for (index, line) in lines.iter().enumerate() {
            // The baseline sits about 80% of the font size below the line's top.
            let baseline =
                top - index as f32 * style.line_height() - style.size() * 0.8 * MM_PER_PT;
            push_text(&mut self.current, style, line, x, baseline);
        }
    }

    fn rule(&mut self, y: f32) {
        self.current.push(Op::SetOutlineColor { col: grey() });
        self.current.push(Op::SetOutlineThickness { pt: Pt(0.5) });
        self.current.push(Op::DrawLine {
            line: Line {
                points: vec![
                    LinePoint {
                        p: Point::new(Mm(MARGIN_SIDE), Mm(y)),
                        bezier: false,
                    },
                    LinePoint {
                        p: Point::new(Mm(PAGE_WIDTH - MARGIN_SIDE), Mm(y)),
                        bezier: false,
                    },
                ],
                is_closed: false,
            },
        });
    }

    /// Starts a new page unless `height` millimetres still fit on this one.
    fn keep_room(&mut self, height: f32) {
        let fresh_page = self.y >= PAGE_HEIGHT - MARGIN_TOP;
        if self.y - height < MARGIN_BOTTOM && !fresh_page {
            self.new_page();
        }
    }

    fn new_page(&mut self) {
        self.pages.push(std::mem::take(&mut self.current));
        self.y = PAGE_HEIGHT - MARGIN_TOP;
    }
}

fn grey() -> Color {
    Color::Rgb(Rgb {
        r: 0.45,
        g: 0.45,
        b: 0.45,
        icc_profile: None,
    })
}

fn black() -> Color {
    Color::Rgb(Rgb {
        r: 0.0,
        g: 0.0,
        b: 0.0,
        icc_profile: None,
    })
}

fn push_text(ops: &mut Vec<Op>, style: Style, text: &str, x: f32, baseline: f32) {
    if text.is_empty() {
        return;
    }
    ops.push(Op::SetFillColor {
        col: if style.grey() { grey() } else { black() },
    });
    ops.push(Op::StartTextSection);
    ops.push(Op::SetFont {
        font: PdfFontHandle::Builtin(style.font()),
        size: Pt(style.size()),
    });
    ops.push(Op::SetTextCursor {
        pos: Point::new(Mm(x), Mm(baseline)),
    });
    ops.push(Op::ShowText {
        items: vec![TextItem::Text(text.to_owned())],
    });
    ops.push(Op::EndTextSection);
}

/// The lines of one table cell: wrapped within the column, at most [`MAX_CELL_LINES`], the
/// last one ending in "..." when the text was cut.
fn cell_lines(text: &str, style: Style, width: f32) -> Vec<String> {
    let mut lines = wrap(&printable(text), style, (width - CELL_PADDING).max(4.0));
    if lines.len() > MAX_CELL_LINES {
        lines.truncate(MAX_CELL_LINES);
        if let Some(last) = lines.last_mut() {
            let room = (width - CELL_PADDING).max(4.0) - text_width("...", style);
            while !last.is_empty() && text_width(last, style) > room {
                last.pop();
            }
            last.push_str("...");
        }
    }
    lines
}

/// Greedy word wrap to `width` millimetres; a word wider than a line is broken between
/// characters. Empty text is no lines.
pub fn wrap(text: &str, style: Style, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if text_width(&candidate, style) <= width {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        for c in word.chars() {
            let mut longer = line.clone();
            longer.push(c);
            if text_width(&longer, style) > width && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line.push(c);
            } else {
                line = longer;
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The width of `text` in millimetres, never less than what the viewer will draw.
pub fn text_width(text: &str, style: Style) -> f32 {
    let units: u32 = text
        .chars()
        .map(|c| {
            let base = match c {
                ' '..='~' => HELVETICA_WIDTHS
                    .get(c as usize - 0x20)
                    .copied()
                    .unwrap_or(WIDE),
                _ => WIDE,
            };
            u32::from(if style.bold() {
                base + BOLD_EXTRA
            } else {
                base
            })
        })
        .sum();
    units as f32 / 1000.0 * style.size() * MM_PER_PT
}

/// `text` as the builtin fonts can show it: whitespace and line breaks become single spaces,
/// common typographic marks become their ASCII forms, other control and format characters
/// (bidirectional overrides included, which could make a name read backwards) are dropped, and
/// any other character outside Latin-1 becomes `?`.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_space = true;
    for c in text.chars() {
        let mapped: &str = match c {
            c if c.is_whitespace() => " ",
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{2032}' => "'",
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{2033}' => "\"",
            '\u{2010}'..='\u{2015}' | '\u{2212}' => "-",
            '\u{2026}' => "...",
            '\u{2022}' | '\u{00B7}' => "*",
            '\u{20AC}' => "EUR",
            '\u{2122}' => "TM",
            c if c.is_control() => "",
            // Zero-width and bidirectional format characters.
            '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' => "",
            '\u{FEFF}' => "",
            ' '..='~' | '\u{A0}'..='\u{FF}' => {
                out.push(c);
                last_space = false;
                continue;
            }
            _ => "?",
        };
        if mapped == " " {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
            continue;
        }
        if !mapped.is_empty() {
            out.push_str(mapped);
            last_space = false;
        }
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_outside_latin_1_becomes_question_marks_and_breaks_become_spaces() {
        assert_eq!(printable("Zoë\n\tПривет 你"), "Zoë ?????? ?");
        assert_eq!(printable("a\u{202E}gnp.exe"), "agnp.exe");
        assert_eq!(printable("“quoted” – x…"), "\"quoted\" - x...");
    }

    #[test]
    fn wrapped_lines_never_exceed_the_width() {
        let text = "The quick brown fox jumps over the lazy dog and keeps running WWWWWWWWWWWWWWWWWWWWWWWWWWWWWW";
        for style in [Style::Body, Style::Bold, Style::Heading] {
            let lines = wrap(text, style, 40.0);
            assert!(lines.len() > 1);
            for line in &lines {
                assert!(text_width(line, style) <= 40.0, "{line}");
            }
            assert_eq!(lines.join("").replace(' ', ""), text.replace(' ', ""));
        }
    }

    #[test]
    fn a_long_document_breaks_into_numbered_pages() {
        let mut writer = PdfWriter::new("t", "footer");
        writer.title("Title");
        for index in 0..300 {
            writer.paragraph(&format!("Line {index}"));
        }
        let rows: Vec<Vec<String>> = (0..200)
            .map(|i| vec![format!("cell {i}"), "x ".repeat(400)])
            .collect();
        writer.table(&[Column::new("A", 1.0), Column::new("B", 3.0)], &rows);
        assert!(writer.pages.len() > 5);
        let bytes = writer.finish();
        assert!(bytes.starts_with(b"%PDF"));
    }
}
