"""``ember.hub``: download checkpoints into a cache (``load_state_dict_from_url``) and local hubconf models."""
from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import zipfile
from urllib.parse import urlparse

from .serialization import load as _load

_hub_dir = None
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
READ_DATA_CHUNK = 128 * 1024


def get_dir() -> str:
    """The hub cache: ``$EMBER_HOME/hub`` (default ``~/.cache/ember/hub``), or ``set_dir``'s."""
    if _hub_dir is not None:
        return _hub_dir
    home = os.environ.get("EMBER_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "ember")
    return os.path.join(home, "hub")


def set_dir(d) -> None:
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))


def _progress(total, disable):
    if disable:
        return None
    try:
        from tqdm import tqdm
        return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024)
    except ImportError:
        return _TextProgress(total)


class _TextProgress:
    """A minimal progress line on stderr when tqdm is not installed."""

    def __init__(self, total):
        self.total, self.n = total, 0

    def update(self, k):
        self.n += k
        if self.total:
            sys.stderr.write(f"\r{100 * self.n // self.total:3d}% {self.n}/{self.total} bytes")

    def close(self):
        sys.stderr.write("\n")


def download_url_to_file(url: str, dst: str, hash_prefix: str | None = None, progress: bool = True) -> None:
    """Download ``url`` to ``dst`` via a temp file; verify the SHA-256 prefix if given."""
    import urllib.request          # http.client, ssl, email: ~20 ms that ``import ember`` need not pay
    req = urllib.request.Request(url, headers={"User-Agent": "ember.hub"})
    with urllib.request.urlopen(req) as u:
        length = u.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        dst = os.path.expanduser(dst)
        d = os.path.dirname(os.path.abspath(dst))
        os.makedirs(d, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".download-", dir=d)
        sha = hashlib.sha256() if hash_prefix is not None else None
        bar = _progress(total, not progress)
        try:
            with os.fdopen(fd, "wb") as f:
                while True:
                    chunk = u.read(READ_DATA_CHUNK)
                    if not chunk:
                        break
                    f.write(chunk)
                    if sha is not None:
                        sha.update(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            if sha is not None:
                digest = sha.hexdigest()
                if digest[: len(hash_prefix)] != hash_prefix:
                    raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{digest}")')
            shutil.move(tmp, dst)
        finally:
            if bar is not None:
                bar.close()
            if os.path.exists(tmp):
                os.remove(tmp)


def load_state_dict_from_url(url: str, model_dir: str | None = None, map_location=None,
                             progress: bool = True, check_hash: bool = False,
                             file_name: str | None = None, weights_only: bool = True):
    """Download (once, into the cache) and ``ember.load`` a checkpoint from ``url``."""
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name or os.path.basename(urlparse(url).path)
    cached = os.path.join(model_dir, filename)
    if not os.path.exists(cached):
        sys.stdout.write(f'Downloading: "{url}" to {cached}\n')
        h = HASH_REGEX.search(filename) if check_hash else None
        download_url_to_file(url, cached, h.group(1) if h else None, progress=progress)
    member = _single_file_zip(cached)
    if member is not None:      # pre-1.6 hub checkpoints: a zip holding the legacy-format file
        with zipfile.ZipFile(cached) as zf:
            cached = zf.extract(member, model_dir)
    return _load(cached, map_location=map_location, weights_only=weights_only)


def _single_file_zip(path):
    """The one member of a zip that holds a single file (else None; checkpoints hold several)."""
    if not zipfile.is_zipfile(path):
        return None
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    return infos[0] if len(infos) == 1 and not infos[0].is_dir() else None


def _load_hubconf(repo_dir):
    path = os.path.join(repo_dir, "hubconf.py")
    if not os.path.exists(path):
        raise FileNotFoundError(f"Cannot find hubconf.py in {repo_dir}")
    spec = importlib.util.spec_from_file_location("hubconf", path)
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, repo_dir)
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(repo_dir)
    return mod


def _entrypoints(mod):
    return [k for k, v in vars(mod).items() if callable(v) and not k.startswith("_")]


def list(repo_or_dir, source="local", **kw):  # noqa: A001 - torch's name
    """Entry points of a local hub repository's hubconf.py."""
    _check_source(source)
    return _entrypoints(_load_hubconf(repo_or_dir))


def help(repo_or_dir, model, source="local", **kw):  # noqa: A001
    _check_source(source)
    return getattr(_load_hubconf(repo_or_dir), model).__doc__


def load(repo_or_dir, model, *args, source="local", **kwargs):
    """Call entry point ``model`` of a local repository's hubconf.py (``source='local'``)."""
    _check_source(source)
    mod = _load_hubconf(repo_or_dir)
    if model not in _entrypoints(mod):
        raise RuntimeError(f"Cannot find callable {model} in hubconf")
    kwargs.pop("trust_repo", None)
    kwargs.pop("force_reload", None)
    kwargs.pop("verbose", None)
    return getattr(mod, model)(*args, **kwargs)


def _check_source(source):
    if source != "local":
        raise ValueError(f"ember.hub supports source='local' only (got {source!r}); GitHub sources "
                         "need network access that ember does not implement yet")
