//! Draws a `vt100` screen to an RGB image: each cell's background, then its character in its
//! foreground colour (bold, dim, inverse, underline and double-width characters included).
//! Box-drawing and block characters are drawn as shapes that fill the cell, as a terminal does,
//! so borders join up whatever the font's line height.

use std::path::Path;

use ab_glyph::{Font, FontVec, GlyphId, PxScale, ScaleFont, point};

pub(crate) type Rgb = [u8; 3];

/// A terminal's colours: the default foreground and background and the 16 ANSI colours.
pub(crate) struct Palette {
    pub fg: Rgb,
    pub bg: Rgb,
    pub ansi: [Rgb; 16],
}

const fn hex(v: u32) -> Rgb {
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

impl Palette {
    /// A dark terminal (the colours of VS Code's dark terminal).
    pub(crate) fn dark() -> Palette {
        Palette {
            fg: hex(0xcccccc),
            bg: hex(0x1e1e1e),
            ansi: [
                hex(0x000000),
                hex(0xcd3131),
                hex(0x0dbc79),
                hex(0xe5e510),
                hex(0x2472c8),
                hex(0xbc3fbc),
                hex(0x11a8cd),
                hex(0xe5e5e5),
                hex(0x666666),
                hex(0xf14c4c),
                hex(0x23d18b),
                hex(0xf5f543),
                hex(0x3b8eea),
                hex(0xd670d6),
                hex(0x29b8db),
                hex(0xffffff),
            ],
        }
    }

    /// A light terminal (GNOME Terminal's Tango colours on white).
    pub(crate) fn light() -> Palette {
        Palette {
            fg: hex(0x171421),
            bg: hex(0xffffff),
            ansi: [
                hex(0x2e3436),
                hex(0xcc0000),
                hex(0x4e9a06),
                hex(0xc4a000),
                hex(0x3465a4),
                hex(0x75507b),
                hex(0x06989a),
                hex(0xd3d7cf),
                hex(0x555753),
                hex(0xef2929),
                hex(0x8ae234),
                hex(0xfce94f),
                hex(0x729fcf),
                hex(0xad7fa8),
                hex(0x34e2e2),
                hex(0xeeeeec),
            ],
        }
    }

    /// The colour of an xterm 256-colour index: the 16 ANSI colours, the 6×6×6 cube, then the
    /// 24 greys.
    fn indexed(&self, i: u8) -> Rgb {
        match i {
            0..=15 => self.ansi[i as usize],
            16..=231 => {
                let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
                let n = i - 16;
                [level(n / 36), level((n / 6) % 6), level(n % 6)]
            }
            _ => {
                let v = 8 + (i - 232) * 10;
                [v, v, v]
            }
        }
    }

    fn colour(&self, c: vt100::Color, default: Rgb) -> Rgb {
        match c {
            vt100::Color::Default => default,
            vt100::Color::Idx(i) => self.indexed(i),
            vt100::Color::Rgb(r, g, b) => [r, g, b],
        }
    }
}

/// The fonts and the cell size they give.
pub(crate) struct Fonts {
    regular: FontVec,
    bold: FontVec,
    /// For characters the monospace font lacks.
    fallback: Option<FontVec>,
    scale: PxScale,
    pub cell_w: u32,
    pub cell_h: u32,
    baseline: f32,
}

fn load(path: &Path) -> Result<FontVec, String> {
    let data = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    FontVec::try_from_vec(data).map_err(|e| format!("{} is not a font: {e}", path.display()))
}

impl Fonts {
    /// Loads the fonts at `px` pixels (ascent to descent); cells are as wide as the regular
    /// font's `M` and 1.2 times as tall as the font, like a terminal's line spacing.
    pub(crate) fn load(
        regular: &Path,
        bold: &Path,
        fallback: Option<&Path>,
        px: f32,
    ) -> Result<Fonts, String> {
        let regular = load(regular)?;
        let bold = load(bold)?;
        let fallback = fallback.map(load).transpose()?;
        let scale = PxScale::from(px);
        let scaled = regular.as_scaled(scale);
        let cell_w = scaled.h_advance(regular.glyph_id('M')).round().max(1.0) as u32;
        let cell_h = (px * 1.2).round() as u32;
        let font_h = scaled.ascent() - scaled.descent();
        let baseline = ((cell_h as f32 - font_h) / 2.0 + scaled.ascent()).round();
        Ok(Fonts {
            regular,
            bold,
            fallback,
            scale,
            cell_w,
            cell_h,
            baseline,
        })
    }
}

/// An RGB image being drawn.
pub(crate) struct Image {
    pub width: u32,
    pub height: u32,
    pixels: Vec<u8>,
}

impl Image {
    fn new(width: u32, height: u32, bg: Rgb) -> Image {
        let mut pixels = Vec::with_capacity((width * height * 3) as usize);
        for _ in 0..width * height {
            pixels.extend_from_slice(&bg);
        }
        Image {
            width,
            height,
            pixels,
        }
    }

    /// Blends `colour` over the pixel at (x, y) with `alpha` (0 to 1).
    fn blend(&mut self, x: i64, y: i64, colour: Rgb, alpha: f32) {
        if x < 0 || y < 0 || x >= self.width as i64 || y >= self.height as i64 {
            return;
        }
        let a = alpha.clamp(0.0, 1.0);
        let i = ((y as u32 * self.width + x as u32) * 3) as usize;
        for (k, c) in colour.iter().enumerate() {
            let old = self.pixels[i + k] as f32;
            self.pixels[i + k] = (old + (*c as f32 - old) * a).round() as u8;
        }
    }

    fn fill(&mut self, x: i64, y: i64, w: i64, h: i64, colour: Rgb) {
        for yy in y..y + h {
            for xx in x..x + w {
                self.blend(xx, yy, colour, 1.0);
            }
        }
    }

    pub(crate) fn write_png(&self, path: &Path) -> Result<(), String> {
        let file = std::fs::File::create(path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::High);
        let mut writer = encoder
            .write_header()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        writer
            .write_image_data(&self.pixels)
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}

fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    let m = |x: u8, y: u8| (x as f32 + (y as f32 - x as f32) * t).round() as u8;
    [m(a[0], b[0]), m(a[1], b[1]), m(a[2], b[2])]
}

/// Draws `screen` with a margin of one cell height around it.
pub(crate) fn render(screen: &vt100::Screen, palette: &Palette, fonts: &Fonts) -> Image {
    let (rows, cols) = screen.size();
    let margin = fonts.cell_h / 2;
    let (cw, ch) = (fonts.cell_w, fonts.cell_h);
    let mut img = Image::new(
        cols as u32 * cw + 2 * margin,
        rows as u32 * ch + 2 * margin,
        palette.bg,
    );
    let cursor = (!screen.hide_cursor()).then(|| screen.cursor_position());
    for row in 0..rows {
        for col in 0..cols {
            let Some(cell) = screen.cell(row, col) else {
                continue;
            };
            if cell.is_wide_continuation() {
                continue;
            }
            let mut fg = palette.colour(cell.fgcolor(), palette.fg);
            let mut bg = palette.colour(cell.bgcolor(), palette.bg);
            if cell.inverse() || cursor == Some((row, col)) {
                std::mem::swap(&mut fg, &mut bg);
            }
            if cell.dim() {
                fg = mix(fg, bg, 0.45);
            }
            let width = if cell.is_wide() { 2 } else { 1 };
            let x = (margin + col as u32 * cw) as i64;
            let y = (margin + row as u32 * ch) as i64;
            img.fill(x, y, (cw * width) as i64, ch as i64, bg);
            let text = cell.contents();
            let mut chars = text.chars();
            let Some(c) = chars.next() else { continue };
            let cellbox = CellBox {
                x,
                y,
                w: (cw * width) as i64,
                h: ch as i64,
            };
            if !shapes::draw(&mut img, c, cellbox, fg, bg, cell.bold()) {
                draw_glyph(&mut img, fonts, c, cellbox, fg, cell.bold());
                // Combining marks that follow the base character.
                for mark in chars {
                    draw_glyph(&mut img, fonts, mark, cellbox, fg, cell.bold());
                }
            }
            if cell.underline() {
                let uy = y + fonts.baseline as i64 + 2;
                img.fill(x, uy.min(y + ch as i64 - 1), (cw * width) as i64, 1, fg);
            }
        }
    }
    img
}

/// A cell's place in the image, in pixels.
#[derive(Clone, Copy)]
pub(crate) struct CellBox {
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
}

fn draw_glyph(img: &mut Image, fonts: &Fonts, c: char, cell: CellBox, fg: Rgb, bold: bool) {
    let primary = if bold { &fonts.bold } else { &fonts.regular };
    let (font, id): (&FontVec, GlyphId) = match primary.glyph_id(c) {
        GlyphId(0) => match &fonts.fallback {
            Some(f) if f.glyph_id(c) != GlyphId(0) => (f, f.glyph_id(c)),
            _ => (primary, GlyphId(0)),
        },
        id => (primary, id),
    };
    // Centre the glyph in its cell (a fallback glyph may be wider or narrower than the cell).
    let advance = font.as_scaled(fonts.scale).h_advance(id);
    let left = cell.x as f32 + ((cell.w as f32 - advance) / 2.0).max(0.0);
    let glyph = id.with_scale_and_position(
        fonts.scale,
        point(left.round(), cell.y as f32 + fonts.baseline),
    );
    let Some(outline) = font.outline_glyph(glyph) else {
        return;
    };
    let bounds = outline.px_bounds();
    outline.draw(|gx, gy, coverage| {
        img.blend(
            bounds.min.x as i64 + gx as i64,
            bounds.min.y as i64 + gy as i64,
            fg,
            coverage,
        );
    });
}

/// Box-drawing lines and block elements, drawn to the cell's edges.
mod shapes {
    use super::{CellBox, Image, Rgb, mix};

    /// How a line leaves the centre of a cell towards one edge.
    #[derive(Clone, Copy, PartialEq)]
    enum Arm {
        None,
        Light,
        Heavy,
        Double,
    }

    /// The arms (up, right, down, left) of a box-drawing character, and whether its corner is
    /// rounded.
    fn arms(c: char) -> Option<([Arm; 4], bool)> {
        use Arm::{Double as D, Heavy as H, Light as L, None as N};
        Some(match c {
            '─' => ([N, L, N, L], false),
            '━' => ([N, H, N, H], false),
            '│' => ([L, N, L, N], false),
            '┃' => ([H, N, H, N], false),
            '┌' => ([N, L, L, N], false),
            '┐' => ([N, N, L, L], false),
            '└' => ([L, L, N, N], false),
            '┘' => ([L, N, N, L], false),
            '┏' => ([N, H, H, N], false),
            '┓' => ([N, N, H, H], false),
            '┗' => ([H, H, N, N], false),
            '┛' => ([H, N, N, H], false),
            '╭' => ([N, L, L, N], true),
            '╮' => ([N, N, L, L], true),
            '╰' => ([L, L, N, N], true),
            '╯' => ([L, N, N, L], true),
            '├' => ([L, L, L, N], false),
            '┤' => ([L, N, L, L], false),
            '┬' => ([N, L, L, L], false),
            '┴' => ([L, L, N, L], false),
            '┼' => ([L, L, L, L], false),
            '┣' => ([H, H, H, N], false),
            '┫' => ([H, N, H, H], false),
            '┳' => ([N, H, H, H], false),
            '┻' => ([H, H, N, H], false),
            '╋' => ([H, H, H, H], false),
            '═' => ([N, D, N, D], false),
            '║' => ([D, N, D, N], false),
            '╔' => ([N, D, D, N], false),
            '╗' => ([N, N, D, D], false),
            '╚' => ([D, D, N, N], false),
            '╝' => ([D, N, N, D], false),
            _ => return None,
        })
    }

    /// Draws `c` if it is a shape; `false` when the font should draw it.
    pub(super) fn draw(img: &mut Image, c: char, b: CellBox, fg: Rgb, bg: Rgb, bold: bool) -> bool {
        let light = (b.w / 9).max(1);
        let heavy = light * 2 + 1;
        if let Some((arms, rounded)) = arms(c) {
            let light = if bold { light + 1 } else { light };
            lines(img, b, arms, rounded, light, heavy, fg);
            return true;
        }
        let (x, y, w, h) = (b.x, b.y, b.w, b.h);
        let code = c as u32;
        match c {
            '█' => img.fill(x, y, w, h, fg),
            '▀' => img.fill(x, y, w, h / 2, fg),
            '▄' => img.fill(x, y + h / 2, w, h - h / 2, fg),
            '▌' => img.fill(x, y, w / 2, h, fg),
            '▐' => img.fill(x + w / 2, y, w - w / 2, h, fg),
            '░' => img.fill(x, y, w, h, mix(bg, fg, 0.25)),
            '▒' => img.fill(x, y, w, h, mix(bg, fg, 0.5)),
            '▓' => img.fill(x, y, w, h, mix(bg, fg, 0.75)),
            // ▁▂▃▄▅▆▇: the lower n eighths.
            '\u{2581}'..='\u{2587}' => {
                let n = (code - 0x2580) as i64;
                let fh = h * n / 8;
                img.fill(x, y + h - fh, w, fh, fg);
            }
            // ▉▊▋▌▍▎▏: the left 7..1 eighths.
            '\u{2589}'..='\u{258f}' => {
                let n = 8 - (code - 0x2588) as i64;
                img.fill(x, y, w * n / 8, h, fg);
            }
            _ => return false,
        }
        true
    }

    fn lines(
        img: &mut Image,
        b: CellBox,
        arms: [Arm; 4],
        rounded: bool,
        light: i64,
        heavy: i64,
        fg: Rgb,
    ) {
        let [up, right, down, left] = arms;
        let cx = b.x + b.w / 2;
        let cy = b.y + b.h / 2;
        let thick = |a: Arm| match a {
            Arm::Heavy => heavy,
            _ => light,
        };
        if rounded {
            arc(img, b, arms, light, fg);
            return;
        }
        // A vertical arm from the centre to the top or bottom edge.
        let vertical = |img: &mut Image, a: Arm, from: i64, to: i64| {
            if a == Arm::None {
                return;
            }
            let t = thick(a);
            let offsets: &[i64] = if a == Arm::Double {
                &[-light - 1, light + 1]
            } else {
                &[0]
            };
            for o in offsets {
                img.fill(cx - t / 2 + o, from.min(to), t, (to - from).abs(), fg);
            }
        };
        let horizontal = |img: &mut Image, a: Arm, from: i64, to: i64| {
            if a == Arm::None {
                return;
            }
            let t = thick(a);
            let offsets: &[i64] = if a == Arm::Double {
                &[-light - 1, light + 1]
            } else {
                &[0]
            };
            for o in offsets {
                img.fill(from.min(to), cy - t / 2 + o, (to - from).abs(), t, fg);
            }
        };
        // Each arm runs past the centre by half the crossing line's width, so corners are full.
        let half = |a: Arm| {
            if a == Arm::None {
                0
            } else {
                thick(a) / 2 + thick(a) % 2
            }
        };
        let h_over =
            half(left)
                .max(half(right))
                .max(if left == Arm::Double || right == Arm::Double {
                    light + 1 + light
                } else {
                    0
                });
        let v_over = half(up)
            .max(half(down))
            .max(if up == Arm::Double || down == Arm::Double {
                light + 1 + light
            } else {
                0
            });
        vertical(img, up, b.y, cy + h_over);
        vertical(img, down, cy - h_over, b.y + b.h);
        horizontal(img, left, b.x, cx + v_over);
        horizontal(img, right, cx - v_over, b.x + b.w);
    }

    /// A rounded corner: a quarter circle tangent to the straight lines it joins, anti-aliased,
    /// then straight runs from its ends to the cell's edges.
    fn arc(img: &mut Image, b: CellBox, arms: [Arm; 4], t: i64, fg: Rgb) {
        let [_up, right, down, _left] = arms;
        // The centre line of the straight lines this corner joins (they are `t` pixels wide,
        // starting at the middle pixel minus t/2).
        let xc = (b.x + b.w / 2 - t / 2) as f32 + t as f32 / 2.0;
        let yc = (b.y + b.h / 2 - t / 2) as f32 + t as f32 / 2.0;
        let r = (b.w.min(b.h) as f32) / 2.0;
        let sx = if right != Arm::None { 1.0 } else { -1.0 };
        let sy = if down != Arm::None { 1.0 } else { -1.0 };
        let (ox, oy) = (xc + sx * r, yc + sy * r);
        let half = t as f32 / 2.0;
        for py in b.y..b.y + b.h {
            for px in b.x..b.x + b.w {
                let (fx, fy) = (px as f32 + 0.5, py as f32 + 0.5);
                if (fx - ox) * sx > 0.0 || (fy - oy) * sy > 0.0 {
                    continue;
                }
                let d = ((fx - ox).powi(2) + (fy - oy).powi(2)).sqrt();
                let coverage = half + 0.5 - (d - r).abs();
                if coverage > 0.0 {
                    img.blend(px, py, fg, coverage.min(1.0));
                }
            }
        }
        let x0 = b.x + b.w / 2 - t / 2;
        let y0 = b.y + b.h / 2 - t / 2;
        let end_x = ox.round() as i64;
        let end_y = oy.round() as i64;
        if sx > 0.0 {
            img.fill(end_x, y0, b.x + b.w - end_x, t, fg);
        } else {
            img.fill(b.x, y0, end_x - b.x, t, fg);
        }
        if sy > 0.0 {
            img.fill(x0, end_y, t, b.y + b.h - end_y, fg);
        } else {
            img.fill(x0, b.y, t, end_y - b.y, fg);
        }
    }
}
