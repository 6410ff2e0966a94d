"""The app's reading of the library's typed audio errors (in process, no server, no model)."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from lodge import audio
from lodge_app import AppSettings
from lodge_app.errors import UserError, audio_user_error
from lodge_app.options import Request
from lodge_app.studio import Studio


def test_too_long_is_reworded_from_its_data():
    err = audio_user_error(audio.SongTooLongError("song.mp3", 754.0, 600.0))
    assert isinstance(err, UserError) and err.title == "Song too long"
    assert str(err) == ("'song.mp3' is 12 min 34 s long; this app accepts songs up to 10 min 00 s. Open 'Advanced' "
                        "and choose 'First N seconds', or trim the song.")


@pytest.mark.parametrize("error, title", [
    (audio.SongTooShortError("a.wav", 1.0, 5.0), "Song too short"),
    (audio.SilentAudioError("a.wav"), "Silent music"),
    (audio.EmptyAudioError("a.wav", zero_bytes=True), "Empty file"),
    (audio.AudioNotFoundError("a.wav"), "No music"),
    (audio.NotAudioFileError("a.mp3"), "Not a music file"),
    (audio.UndecodableAudioError("a.m4a"), "Unreadable music"),
    (audio.NoDecoderError("a.xyz"), "Unreadable music"),
    (audio.AudioError("Something else."), "Music problem"),
])
def test_other_audio_errors_keep_their_message_and_take_their_title_from_the_type(error, title):
    err = audio_user_error(error)
    assert (str(err), err.title) == (str(error), title)


def test_load_music_keeps_only_a_too_long_upload(tmp_path):
    """A song refused for its length stays ('First N seconds' can use it); any other refused upload goes."""
    studio = Studio(AppSettings(calibrate=False, max_seconds=10.0), workdir=tmp_path)
    upload = tmp_path / "upload1"
    upload.mkdir()
    long_song = upload / "long.wav"
    sf.write(long_song, np.full(12 * 8000, 0.1, np.float32), 8000)
    with pytest.raises(UserError) as excinfo:
        studio.load_music(long_song, Request(genre="hiphop"))
    assert excinfo.value.title == "Song too long" and "12.0 s long" in str(excinfo.value)
    assert "10.0 s" in str(excinfo.value) and long_song.is_file()

    empty = upload / "empty.wav"
    empty.touch()
    with pytest.raises(UserError) as excinfo:
        studio.load_music(empty, Request(genre="hiphop"))
    assert excinfo.value.title == "Empty file" and not empty.exists()
