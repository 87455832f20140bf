"""The exceptions drumgen raises on purpose.

Every error a user can cause derives from :class:`DrumgenError`; its message is one line that says
what was expected and what was received. The CLI prints that line and exits with status 1.
"""


class DrumgenError(Exception):
    """Base class of every error drumgen raises on purpose."""


class ParameterError(DrumgenError, ValueError):
    """A function or command received an argument outside its documented domain."""


class MidiError(DrumgenError):
    """A MIDI file is missing, unreadable, or has no usable content."""


class TimeSignatureError(MidiError):
    """A bar's meter cannot be drummed: shorter than one beat, longer than 8 quarter notes, not a
    whole number of sixteenths, or cut short by a meter change inside it (and, where only 4/4
    bars are wanted - the dataset builder - any bar that is not four quarter notes long)."""


class CommonTimeError(TimeSignatureError):
    """A song has a bar that is not four quarter notes long where only 4/4 bars are wanted (a
    plain ``drumgen dataset build``, e.g. the 4/4 validation songs the study scripts score); any
    other use can drum it."""


class LimitError(DrumgenError):
    """A song exceeds one of the documented limits (``[limits]`` of the presets, ``--max-*`` flags)."""


class SynthError(DrumgenError):
    """FluidSynth or the General MIDI soundfont is missing or failed."""


class ModelError(DrumgenError):
    """A saved model is missing, corrupted, or of an unsupported version."""


class OutputExistsError(DrumgenError):
    """An output already exists and overwriting it was not requested (``--force``)."""


class OutputError(DrumgenError):
    """An output cannot be written: a file stands where a folder should be, or the folder is
    read-only."""


class RunFolderError(DrumgenError):
    """A run folder lacks the result of an earlier step, or holds a broken file."""
