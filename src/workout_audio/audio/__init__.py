"""Audio: PCM, ffmpeg, tones, loudness, and music mixed under the voice.

``pcm`` states the one sample format, ``ffmpeg`` finds and runs ffmpeg,
``tones`` makes the beeps, ``loudness`` measures and predicts loudness,
``music`` reads and measures the user's music, and ``mix`` lays it under the
voice with the ducking the script calls for.
"""
