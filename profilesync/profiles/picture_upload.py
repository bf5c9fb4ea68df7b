"""Turning an uploaded file into a profile picture: checked, shrunk, re-encoded as JPEG.

Every upload is decoded and encoded again, never stored as sent: what is kept is a
plain JPEG of bounded size whatever arrived (no metadata, no scripts in an SVG
renamed .jpg, no second image hidden after the first). The checks run cheapest
first: the byte count before reading, the format and pixel count from the header
before decoding, so a decompression bomb is refused without being unpacked.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Far above any camera's photo, far below what would exhaust a web process's memory.
MAX_PIXELS = 40_000_000
MAX_SIDE = 512
JPEG_QUALITY = 85
ACCEPTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
TOO_MANY_PIXELS = f"Pictures can have at most {MAX_PIXELS // 1_000_000} million pixels."


class PictureRefused(ValueError):
    """Why an upload cannot be a profile picture, in words for the person who sent it."""


def check_upload_size(size: int) -> None:
    if size > MAX_UPLOAD_BYTES:
        raise PictureRefused(
            f"The file is {size / 1024 / 1024:.1f} MB; pictures can be at most "
            f"{MAX_UPLOAD_BYTES // 1024 // 1024} MB.")


def prepare_picture(data: bytes) -> bytes:
    """The JPEG to store for the uploaded ``data``; :class:`PictureRefused` says why not."""
    check_upload_size(len(data))
    accepted = ", ".join(ACCEPTED_FORMATS.values())
    try:
        with warnings.catch_warnings():
            # Pillow warns (and past twice the limit raises) about huge images; both refuse.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise PictureRefused(f"The picture is {width} × {height} pixels. {TOO_MANY_PIXELS}")
            image.load()
            return _as_small_jpeg(image)
    except PictureRefused:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise PictureRefused(f"The picture has too many pixels. {TOO_MANY_PIXELS}") from exc
    except Image.UnidentifiedImageError as exc:
        raise PictureRefused(f"This file is not a picture in a format we take ({accepted}).") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise PictureRefused("The picture could not be read; the file may be damaged.") from exc


def _as_small_jpeg(image: Image.Image) -> bytes:
    image = ImageOps.exif_transpose(image)  # phones store "rotate me" instead of rotating
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
    elif image.mode != "RGB":
        image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()
