"""One MP3 from parts encoded side by side, joined at frame boundaries inside silences.

LAME starts every stream ENCODER_DELAY_SAMPLES late and flushes it with padding, so
parts encoded apart cannot simply be laid end to end. Each part but the last is
cut to a length that fills a known number of frames (:func:`plan_parts`); the next
part starts where those frames end, and the input left out between them
(JOIN_GAP_SAMPLES) is silence that the first part's padding and the next part's
delay play instead. Every part starts with an empty bit reservoir, so its frames
need nothing from the frames before them. The joined file gets one Info/LAME header
(frame count, size, seek table, delay, padding and both CRCs), so players and
decoders trim it to exactly the samples the track has.

A track encoded whole goes through the same rewrite, for its padding: for an input
whose length is 1 to 46 samples past a whole frame, the header LAME's encoder writes
(as ffmpeg 9 does it) states 47 less that remainder too little padding, and decoders
would then play that many samples past the end. The padding is therefore computed
from the frames and the track's own length, never taken from the encoder.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import EncoderError

__all__ = [
    "FRAME_SAMPLES",
    "JOIN_GAP_SAMPLES",
    "PartsMisaligned",
    "frames_for",
    "join_mp3",
    "plan_parts",
]

FRAME_SAMPLES = 1152  # MPEG-1 Layer III
ENCODER_DELAY_SAMPLES = 576  # LAME's start delay, as its header states it
JOIN_GAP_SAMPLES = FRAME_SAMPLES + ENCODER_DELAY_SAMPLES  # silence left out at each join
JOIN_MARGIN_SAMPLES = 4 * FRAME_SAMPLES  # silence kept either side of what is left out (0.1 s)

# The Info tag, from its "Info" marker (LAME's VbrTag.c layout, as ffmpeg writes it).
_FRAMES_AT, _BYTES_AT, _TOC_AT, _TOC_SIZE = 8, 12, 16, 100
_DELAY_PADDING_AT, _MUSIC_LENGTH_AT, _MUSIC_CRC_AT, _TAG_CRC_AT = 141, 148, 152, 154
_TAG_CRC_SPAN = 190  # the tag's CRC covers the frame's first 190 bytes
_BITRATES_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_SAMPLE_RATES_HZ = (44_100, 48_000, 32_000)


class PartsMisaligned(EncoderError):
    """A part holds other than the frames its join was planned on (another LAME's flush)."""


def frames_for(samples: int) -> int:
    """The audio frames LAME writes for ``samples`` of input (it flushes a whole extra frame)."""
    return -(-samples // FRAME_SAMPLES) + 1


def plan_parts(
    length_samples: int, silences: Sequence[tuple[int, int]], count: int
) -> list[tuple[int, int]]:
    """Up to ``count`` spans of the input, ``(start, stop)`` in samples, to encode apart.

    Every span but the last is cut inside one of ``silences`` (``(start, stop)`` runs of
    zero samples) at a length LAME encodes to whole frames, and the next span starts
    where those frames end; joined, they decode to exactly ``length_samples``. Spans
    are as even as the silences allow; with no silence long enough, one span.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for index in range(1, count):
        wanted = length_samples * index // count
        cut = _cut_near(wanted, start, silences, length_samples)
        if cut is None:
            continue
        spans.append((start, cut))
        start = cut + JOIN_GAP_SAMPLES
    spans.append((start, length_samples))
    return spans


def _cut_near(
    wanted: int, start: int, silences: Sequence[tuple[int, int]], length_samples: int
) -> int | None:
    """The cut for a span from ``start``, in the silence nearest ``wanted``: at a whole-frame
    length, with the left-out gap as near the silence's middle as frames allow, far from
    the sound either side."""
    best: int | None = None
    for silence_start, silence_stop in silences:
        silence_stop = min(silence_stop, length_samples)
        lowest = silence_start + JOIN_MARGIN_SAMPLES
        highest = silence_stop - JOIN_MARGIN_SAMPLES - JOIN_GAP_SAMPLES
        if highest < lowest or lowest <= start:
            continue
        middle = (silence_start + silence_stop - JOIN_GAP_SAMPLES) // 2
        # A length of q frames less the delay: LAME fills exactly q + 1 frames.
        frames = round((middle - start + ENCODER_DELAY_SAMPLES) / FRAME_SAMPLES)
        cuts = [
            start + q * FRAME_SAMPLES - ENCODER_DELAY_SAMPLES for q in range(frames - 1, frames + 2)
        ]
        fitting = [cut for cut in cuts if lowest <= cut <= highest]
        if not fitting:
            continue
        cut = min(fitting, key=lambda cut: abs(cut - middle))
        if best is None or abs(cut - wanted) < abs(best - wanted):
            best = cut
    return best


@dataclass(frozen=True)
class _Part:
    """One part as ffmpeg wrote it: its Info frame's size and what its header says."""

    path: Path
    info_bytes: int  # the Info frame's length; the audio frames follow it
    frames: int
    size_bytes: int  # the whole file, Info frame included
    delay_padding: int  # LAME's 12-bit delay and 12-bit padding
    music_crc: int


def _read_part(path: Path) -> tuple[_Part, bytes]:
    """What the part's Info frame says, and that frame's bytes."""
    with path.open("rb") as part:
        head = part.read(4)
        if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
            raise EncoderError(f"{path.name}: the encoder wrote no MP3 frame at its start")
        header = int.from_bytes(head, "big")
        bitrate = _BITRATES_KBPS[(header >> 12) & 0xF] * 1000
        sample_rate = _SAMPLE_RATES_HZ[(header >> 10) & 0x3]
        info_bytes = 144 * bitrate // sample_rate + ((header >> 9) & 1)
        frame = head + part.read(info_bytes - 4)
    tag = _tag_at(frame)
    if tag < 0:
        raise EncoderError(f"{path.name}: the encoder wrote no Info header")

    def field(at: int, size: int) -> int:
        return int.from_bytes(frame[tag + at : tag + at + size], "big")

    return (
        _Part(
            path=path,
            info_bytes=info_bytes,
            frames=field(_FRAMES_AT, 4),
            size_bytes=field(_BYTES_AT, 4),
            delay_padding=field(_DELAY_PADDING_AT, 3),
            music_crc=field(_MUSIC_CRC_AT, 2),
        ),
        frame,
    )


def _tag_at(frame: bytes) -> int:
    """Where the header's tag starts: "Info" for constant bitrate, "Xing" for variable."""
    found = frame.find(b"Info")
    return found if found >= 0 else frame.find(b"Xing")


def join_mp3(
    first: Path, rest: Sequence[Path], planned_frames: Sequence[int], track_samples: int
) -> None:
    """Append the audio frames of ``rest`` to ``first`` and rewrite its Info header for the
    whole: the track then plays and decodes as one stream of exactly ``track_samples``.

    ``planned_frames`` are the frames each part but the last must hold; nothing is
    written unless they do. With no ``rest``, only the header is rewritten.

    Raises:
        PartsMisaligned: a part holds other than its planned frames, or the frames
            cannot hold ``track_samples``.
        EncoderError: a part is not an MP3 with an Info header, as ffmpeg writes them.
        OSError: reading or writing failed (disk full, ...).
    """
    head, frame = _read_part(first)
    parts = [head] + [_read_part(path)[0] for path in rest]
    held = [part.frames for part in parts[:-1]]
    if held != list(planned_frames):
        planned = list(planned_frames)
        raise PartsMisaligned(f"the parts hold {held} frames, not the {planned} planned")
    frames = sum(part.frames for part in parts)
    padding = frames * FRAME_SAMPLES - (head.delay_padding >> 12) - track_samples
    if not 0 <= padding <= 0xFFF:  # the header's 12 bits; LAME pads less than two frames
        raise PartsMisaligned(f"{frames} frames cannot hold {track_samples} samples")
    with first.open("r+b") as joined:
        joined.truncate(head.size_bytes)
        joined.seek(0, 2)
        for part in parts[1:]:
            with part.path.open("rb") as source:
                source.seek(part.info_bytes)
                shutil.copyfileobj(source, joined, 1 << 20)
        total_bytes = joined.tell()
        joined.seek(0)
        joined.write(_info_frame(frame, parts, total_bytes, padding))


def _info_frame(frame: bytes, parts: Sequence[_Part], total_bytes: int, padding: int) -> bytes:
    """The first part's Info frame, rewritten to describe all the parts joined."""
    tag = _tag_at(frame)
    info = bytearray(frame)

    def put(at: int, size: int, value: int) -> None:
        info[tag + at : tag + at + size] = value.to_bytes(size, "big")

    frames = sum(part.frames for part in parts)
    put(_FRAMES_AT, 4, frames)
    put(_BYTES_AT, 4, total_bytes)
    info[tag + _TOC_AT : tag + _TOC_AT + _TOC_SIZE] = _seek_table(parts, frames, total_bytes)
    put(_DELAY_PADDING_AT, 3, (parts[0].delay_padding & 0xFFF000) | padding)
    put(_MUSIC_LENGTH_AT, 4, total_bytes)
    music_crc = 0
    for part in parts:
        music_crc = crc16_combine(music_crc, part.music_crc, part.size_bytes - part.info_bytes)
    put(_MUSIC_CRC_AT, 2, music_crc)
    put(_TAG_CRC_AT, 2, 0)  # the tag's CRC is taken with its own field zero
    put(_TAG_CRC_AT, 2, crc16(bytes(info[:_TAG_CRC_SPAN])))
    return bytes(info)


def _seek_table(parts: Sequence[_Part], frames: int, total_bytes: int) -> bytes:
    """The Info tag's 100 seek points: where each percent of the frames starts, in 256ths
    of the file (frames are constant-bitrate, so each part is interpolated linearly)."""
    spans = []  # (first frame, its byte offset, bytes per frame) for each part
    frame, offset = 0, parts[0].info_bytes
    for part in parts:
        audio_bytes = part.size_bytes - part.info_bytes
        spans.append((frame, offset, audio_bytes / max(part.frames, 1)))
        frame, offset = frame + part.frames, offset + audio_bytes
    table = bytearray(_TOC_SIZE)
    for percent in range(1, _TOC_SIZE):
        wanted = frames * percent / _TOC_SIZE
        first, start, per_frame = next(s for s in reversed(spans) if s[0] <= wanted)
        position = start + (wanted - first) * per_frame
        table[percent] = min(int(256 * position / total_bytes), 255)
    return bytes(table)


# CRC-16/ARC (reflected 0x8005, from zero), the LAME tag's checksum.
_CRC_POLY = 0xA001
_CRC_TABLE = []
for _byte in range(256):
    _crc = _byte
    for _ in range(8):
        _crc = (_crc >> 1) ^ (_CRC_POLY if _crc & 1 else 0)
    _CRC_TABLE.append(_crc)


def crc16(data: bytes, crc: int = 0) -> int:
    """CRC-16/ARC of ``data``, continuing from ``crc``."""
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def crc16_combine(first: int, second: int, second_length: int) -> int:
    """The CRC of two blocks end to end from their own CRCs, like zlib's crc32_combine.

    From a zero start the CRC is linear: the first block's CRC run through
    ``second_length`` zero bytes, plus the second's.
    """
    # Each operator is 16 columns: the register after its steps, from each single bit.
    one_zero_bit = [_CRC_POLY if bit == 0 else 1 << (bit - 1) for bit in range(16)]
    operator = _square(_square(_square(one_zero_bit)))  # one zero byte
    register = first
    length = second_length
    while length:
        if length & 1:
            register = _apply(operator, register)
        operator = _square(operator)
        length >>= 1
    return register ^ second


def _apply(operator: list[int], register: int) -> int:
    result = 0
    for bit in range(16):
        if register >> bit & 1:
            result ^= operator[bit]
    return result


def _square(operator: list[int]) -> list[int]:
    return [_apply(operator, column) for column in operator]
