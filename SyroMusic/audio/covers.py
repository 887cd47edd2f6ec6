"""Album covers: checked to be images, stored by content hash in the sizes pages ask for, found beside files.

A cover is stored once per distinct bytes under MEDIA_ROOT (models.cover_file_name): the original bytes
as received, and one WebP per width in COVER_SIZES, the image fitted in a square of that width (never
enlarged: a cover smaller than a size is stored at its own size under that size's name, and the page
scales it). Files are written under a temporary name and renamed, so a page never sees half a cover.
"""

import hashlib
import io
import os
import tempfile
import warnings
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageOps

from SyroMusic.models import COVER_SIZES, cover_file_name

# Pillow's names of the formats browsers show everywhere.
COVER_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
# A cover has a few million pixels; more is a mistake or a decompression bomb (a small file that
# decodes to gigabytes).
COVER_MAX_PIXELS = 50_000_000
WEBP_QUALITY = 82

# The names a folder's cover goes by, best first, and the image extensions, preferred first.
FOLDER_COVER_NAMES = ("cover", "folder", "front")
FOLDER_COVER_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif")


class BadImage(ValueError):
    """Bytes refused as a cover; str(error) is the reason."""


def store_cover(data):
    """Store a cover's bytes (original + one WebP per COVER_SIZES) and return their SHA-256 (hex).
    Raises BadImage unless the bytes are a whole JPEG, PNG, WebP or GIF within the size limits.
    Storing the same bytes again writes nothing."""
    data = bytes(data)
    limit = settings.COVER_UPLOAD_MAX_BYTES
    if not data:
        raise BadImage("empty file (0 bytes)")
    if len(data) > limit:
        raise BadImage(f"too large: {len(data)} bytes (the limit is {limit})")
    content_hash = hashlib.sha256(data).hexdigest()
    root = Path(settings.MEDIA_ROOT)
    original = root / cover_file_name(content_hash)
    sized = {size: root / cover_file_name(content_hash, size) for size in COVER_SIZES}
    if original.exists() and all(path.exists() for path in sized.values()):
        return content_hash
    image = _open(data)
    _write(original, data)
    encoded = {}  # by fitted dimensions: a cover smaller than two sizes is encoded once for both
    for size, path in sized.items():
        if not path.exists():
            fitted = image.copy()
            fitted.thumbnail((size, size), Image.Resampling.LANCZOS)
            if fitted.size not in encoded:
                buffer = io.BytesIO()
                fitted.save(buffer, "WEBP", quality=WEBP_QUALITY)
                encoded[fitted.size] = buffer.getvalue()
            _write(path, encoded[fitted.size])
    return content_hash


def _open(data):
    """The image in the bytes, upright (EXIF orientation) and in RGB; BadImage when it is not a whole cover."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice it; any bomb is an error here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=COVER_FORMATS) as probe:
                width, height = probe.size
                if width * height > COVER_MAX_PIXELS:
                    raise BadImage(f"too many pixels: {width}x{height} (the limit is {COVER_MAX_PIXELS:,} pixels)")
                probe.verify()  # checksums and structure, without decoding
            # verify() leaves the image unusable: open again to decode it.
            image = Image.open(io.BytesIO(data), formats=COVER_FORMATS)
            image.draft("RGB", (max(COVER_SIZES), max(COVER_SIZES)))  # JPEG: decode at a fraction of the size
            image.load()
    except BadImage:
        raise
    except Image.UnidentifiedImageError:
        raise BadImage("not an image (JPEG, PNG, WebP or GIF)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadImage(f"too many pixels (the limit is {COVER_MAX_PIXELS:,} pixels)") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as error:
        # Pillow reports a damaged file as any of these ("image file is truncated", "broken PNG file").
        raise BadImage(f"damaged image: {error}") from None
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent parts show on white, as on a sleeve.
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
    return image.convert("RGB")


def _write(path, data):
    """Write the bytes at path unless a file is there already, through a temporary file and a rename."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)  # mkstemp makes 0600; the web server reads covers
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def folder_cover(directory):
    """The cover image file beside an album's files: cover.*, else folder.*, else front.* (.jpg, .jpeg, .png,
    .webp or .gif in that order, any case), or None."""
    found = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                stem, extension = os.path.splitext(entry.name.lower())
                if stem in FOLDER_COVER_NAMES and extension in FOLDER_COVER_EXTENSIONS and entry.is_file():
                    rank = (FOLDER_COVER_NAMES.index(stem), FOLDER_COVER_EXTENSIONS.index(extension), entry.name)
                    found.append((rank, entry.path))
    except OSError:
        return None
    return Path(min(found)[1]) if found else None
