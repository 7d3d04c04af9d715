"""Restricted SMPL unpickler: dotted names and __reduce__ payloads are refused, with one-line errors."""
import builtins
import os
import pickle
import subprocess

import pytest

from selfmocap.body.smpl_body import SMPLFileError, read_smpl_file


def _short(s: bytes) -> bytes:
    return pickle.SHORT_BINUNICODE + bytes([len(s)]) + s


def test_dotted_numpy_name_does_not_run_code(tmp_path):
    marker = tmp_path / "MARKER"
    cmd = f"__import__('os').system('touch {marker}')".encode()
    payload = (pickle.PROTO + b"\x04" + _short(b"numpy") + _short(b"interp._implementation.__builtins__.get")
               + pickle.STACK_GLOBAL + _short(b"eval") + pickle.TUPLE1 + pickle.REDUCE
               + pickle.BINUNICODE + len(cmd).to_bytes(4, "little") + cmd + pickle.TUPLE1 + pickle.REDUCE + pickle.STOP)
    path = tmp_path / "evil.pkl"
    path.write_bytes(payload)
    with pytest.raises(SMPLFileError) as err:
        read_smpl_file(path)
    assert not marker.exists() and "\n" not in str(err.value) and str(path) in str(err.value)


class _Reduce:
    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


@pytest.mark.parametrize("fn", [os.system, builtins.eval, subprocess.Popen])
def test_reduce_payloads_are_refused(tmp_path, fn):
    marker = tmp_path / "MARKER"
    arg = f"__import__('os').system('touch {marker}')" if fn is builtins.eval else f"touch {marker}"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"v_template": _Reduce(fn, (arg,))}, protocol=2))
    with pytest.raises(SMPLFileError) as err:
        read_smpl_file(path)
    assert not marker.exists() and "\n" not in str(err.value)
