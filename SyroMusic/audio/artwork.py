"""Demo cover art: a square image drawn from an album's id, with its title and artist on it (Pillow).

The demo catalogue's albums and its audio files' embedded covers both come from here, so an album shows
the same cover whichever way it got one. Neighbouring ids get hues far apart (a golden-ratio step round
the colour wheel) and one of five designs, so a grid of demo albums never reads as the same cover twice.
"""

import colorsys
import io
import math
import random
import threading

import numpy as np
from PIL import Image, ImageDraw, ImageFont

GOLDEN = (math.sqrt(5) - 1) / 2  # consecutive multiples land far apart on the wheel, never repeating
STYLES = ("rings", "stripes", "grid", "waves", "peaks")


def draw_album_cover(album_id, title, artist, *, size=600):
    """A `size`-pixel square JPEG: a gradient and a design from the album's id, its title and artist on it.
    The same arguments give the same bytes (a content-addressed cover is then stored once)."""
    rng = random.Random(album_id * 2_654_435_761)

    def px(value):  # the designs are laid out on 600 pixels
        return round(value * size / 600)

    hue = (album_id * GOLDEN + rng.uniform(-0.04, 0.04)) % 1
    top = _colour(hue, rng.uniform(0.45, 0.8), rng.uniform(0.15, 0.35))
    bottom = _colour((hue + rng.uniform(0.05, 0.25)) % 1, rng.uniform(0.5, 0.9), rng.uniform(0.55, 0.85))
    ramp = np.linspace(0, 1, size)[:, None, None]
    gradient = (np.array(top) * (1 - ramp) + np.array(bottom) * ramp).astype(np.uint8)
    image = Image.fromarray(np.repeat(gradient, size, axis=1), "RGB").convert("RGBA")
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    accent = _colour((hue + 0.5) % 1, 0.6, 0.95)
    style = STYLES[(album_id + rng.randrange(2)) % len(STYLES)]  # neighbours rarely share a design
    if style == "rings":
        x, y = px(rng.randint(150, 450)), px(rng.randint(120, 330))
        for radius in range(px(rng.randint(200, 280)), px(20), -px(rng.randint(22, 40))):
            width = max(1, px(rng.randint(4, 12)))
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), outline=(*accent, 150), width=width)
        draw.ellipse((x - px(45), y - px(45), x + px(45), y + px(45)), fill=(*accent, 220))
    elif style == "stripes":
        width = px(rng.randint(25, 60))
        for offset in range(-size, size, 2 * width):
            draw.polygon(
                [(offset, size), (offset + width, size), (offset + width + size, 0), (offset + size, 0)],
                fill=(*accent, rng.randint(60, 150)),
            )
    elif style == "grid":
        cells = rng.randint(4, 8)
        step = size // cells
        for row in range(cells):
            for column in range(cells):
                if rng.random() < 0.45:
                    inset = rng.randint(1, max(1, step // 4))
                    box = (column * step + inset, row * step + inset, (column + 1) * step - inset, (row + 1) * step - inset)
                    draw.rectangle(box, fill=(*accent, rng.randint(50, 200)))
    elif style == "waves":
        for number in range(rng.randint(6, 12)):
            base = px(60 + number * 40)
            amplitude, length, phase = px(rng.randint(10, 40)), px(rng.randint(120, 300)), rng.random() * 6.3
            points = [
                (x, base + amplitude * math.sin(phase + 2 * math.pi * x / length)) for x in range(0, size + 10, max(2, px(10)))
            ]
            draw.line(points, fill=(*accent, 170), width=max(1, px(rng.randint(3, 9))))
    else:
        for number in range(rng.randint(3, 6)):
            peak_x, peak_y = rng.randint(0, size), px(rng.randint(120, 380))
            spread = px(rng.randint(150, 320))
            shade = tuple(int(channel * (0.5 + 0.1 * number)) for channel in accent)
            draw.polygon([(peak_x - spread, size), (peak_x, peak_y), (peak_x + spread, size)], fill=(*shade, 190))
    image = Image.alpha_composite(image, layer)
    _caption(image, title, artist, px)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=85, optimize=True)
    return buffer.getvalue()


def _colour(hue, saturation, value):
    return tuple(int(channel * 255) for channel in colorsys.hsv_to_rgb(hue, saturation, value))


def _caption(image, title, artist, px):
    """The title (wrapped, large) and the artist in a dark band at the bottom, in what the font can draw."""
    title_font, artist_font = _font(px(46)), _font(px(28))
    title_lines = _wrap(_drawable(title, title_font), title_font, image.width - px(60))[:3]
    artist_text = _drawable(artist, artist_font)
    height = px(40) + px(56) * len(title_lines) + (px(40) if artist_text else 0)
    band = Image.new("RGBA", image.size, (0, 0, 0, 0))
    ImageDraw.Draw(band).rectangle((0, image.height - height, image.width, image.height), fill=(0, 0, 0, 120))
    image.alpha_composite(band)
    draw = ImageDraw.Draw(image)
    y = image.height - height + px(20)
    for line in title_lines:
        draw.text((px(30), y), line, font=title_font, fill=(255, 255, 255, 255))
        y += px(56)
    if artist_text:
        draw.text((px(30), y), artist_text, font=artist_font, fill=(235, 235, 235, 255))


# A FreeType face must not render in two threads at once: each thread loads its own.
_local = threading.local()


def _font(size):
    fonts = _local.__dict__.setdefault("fonts", {})
    if size not in fonts:
        try:
            # Pillow finds it among the system's fonts (Chromium's dependencies bring DejaVu); it draws
            # Latin, Greek and Cyrillic. Pillow's own font (Latin only) otherwise.
            fonts[size] = ImageFont.truetype("DejaVuSans-Bold.ttf", size)
        except OSError:
            fonts[size] = ImageFont.load_default(size)
    return fonts[size]


def _drawable(text, font):
    """`text` if the font has a glyph for every character, else "" (no boxes for glyphs it lacks)."""
    missing = bytes(font.getmask("\U000f0000"))
    return text if all(char == " " or bytes(font.getmask(char)) != missing for char in set(text)) else ""


def _wrap(text, font, width):
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and font.getlength(candidate) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return [*lines, line] if line else lines
