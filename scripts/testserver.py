"""The test suite's loopback HTTP server (Tests/TestSupport/http_server.py) for the scripts."""
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class LoopbackServer:
    """A work folder with `served/` (the files the server serves under /files/) and the server."""

    def __init__(self, prefix):
        self.work = tempfile.mkdtemp(prefix=prefix)
        self.served = os.path.join(self.work, "served")
        os.makedirs(self.served)
        self.process = subprocess.Popen([sys.executable, os.path.join(ROOT, "Tests/TestSupport/http_server.py"), self.served],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.port = int(self.process.stdout.readline().split()[1])
        self.base = "http://127.0.0.1:%d" % self.port

    def stop(self, keep=False):
        self.process.stdin.close()
        self.process.terminate()
        self.process.wait()
        if keep:
            print("work folder kept:", self.work, file=sys.stderr)
        else:
            shutil.rmtree(self.work, ignore_errors=True)
