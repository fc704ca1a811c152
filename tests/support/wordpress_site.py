"""A real WordPress for tests, from Debian's packages (wordpress, php-cli, php-mysql, mariadb-server).

Nothing system-wide is used or changed: no running MariaDB or Apache, no file in /etc/wordpress.

- MariaDB: `mariadb-install-db` into a temporary folder, then `mariadbd` on a socket in that folder
  (no TCP port), as the current user.
- WordPress: a private document root holding copies of the top-level PHP files of /usr/share/wordpress,
  links to its wp-includes and wp-admin, a wp-content of its own (themes linked, a must-use plugin for
  injected faults) and its own wp-config.php (`WP_ENVIRONMENT_TYPE` local, so application passwords
  work over HTTP). The Debian wp-config.php would read /etc/wordpress/config-HOST.php, and WordPress's
  maintenance flag (`.maintenance`) lives in the document root: a private root keeps both to this site.
- PHP's built-in server (`php -S 127.0.0.1:PORT -t ROOT`) serves it; `php(code)` runs PHP inside
  WordPress (php-cli), the way the site is installed and posts, users and passwords are made.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

WORDPRESS = Path("/usr/share/wordpress")
MARIADBD = Path("/usr/sbin/mariadbd")
INSTALL_DB = Path("/usr/bin/mariadb-install-db")

# A PHP fatal error in every REST request while the flag file exists: WordPress's own 500 answer.
_FAULT_PLUGIN = """<?php
add_action('rest_api_init', function () {
    if (file_exists(__DIR__ . '/fault.flag')) {
        throw new Error('archiver test: injected fault');
    }
});
"""


def missing() -> str | None:
    """Why a real WordPress cannot run here (the packages that are missing), or None."""
    needs = {
        "wordpress": (WORDPRESS / "wp-settings.php").is_file(),
        "mariadb-server": MARIADBD.is_file() and INSTALL_DB.is_file(),
        "php-cli": shutil.which("php") is not None,
    }
    if needs["php-cli"]:
        modules = subprocess.run(["php", "-m"], capture_output=True, text=True, check=False).stdout
        needs["php-mysql"] = "mysqli" in modules.split()
    absent = [name for name, there in needs.items() if not there]
    if absent:
        return f"a real WordPress needs the Debian packages {', '.join(absent)} (apt-get install them)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Editor:
    id: int
    login: str
    password: str  # the application password


class WordPressSite:
    """One WordPress on loopback; `start()` installs it, `close()` stops everything and deletes it."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="archiver-wp-"))
        self.root = self.dir / "site"
        self.content = self.dir / "content"
        self.socket = self.dir / "mysqld.sock"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._mysqld: subprocess.Popen[bytes] | None = None
        self._php: subprocess.Popen[bytes] | None = None
        self.editor = Editor(0, "editor", "")

    # --- life cycle

    def start(self) -> None:
        self._start_database()
        self._make_root()
        self.start_server()
        self.editor = self._install()

    def close(self) -> None:
        self.stop_server()
        if self._mysqld is not None:
            self._mysqld.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._mysqld.wait(timeout=20)
            if self._mysqld.poll() is None:
                self._mysqld.kill()
                self._mysqld.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _start_database(self) -> None:
        as_root = ["--user=root"] if os.geteuid() == 0 else []
        subprocess.run(
            [str(INSTALL_DB), "--no-defaults", f"--datadir={self.dir / 'db'}", "--skip-test-db",
             "--auth-root-authentication-method=normal", *as_root],
            capture_output=True, check=True, timeout=120,
        )  # fmt: skip
        with open(self.dir / "mysqld.log", "wb") as log:  # the server keeps its own copy of the fd
            self._mysqld = subprocess.Popen(
                [str(MARIADBD), "--no-defaults", f"--datadir={self.dir / 'db'}", f"--socket={self.socket}",
                 "--skip-networking", f"--pid-file={self.dir / 'mysqld.pid'}", "--skip-log-bin",
                 "--innodb-flush-log-at-trx-commit=0", *as_root],
                stdout=log, stderr=log,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while not self.socket.exists():
            if self._mysqld.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mariadbd did not start: {(self.dir / 'mysqld.log').read_text()[-2000:]}")
            time.sleep(0.05)
        self.sql("CREATE DATABASE wordpress CHARACTER SET utf8mb4")

    def sql(self, statement: str) -> str:
        done = subprocess.run(
            ["mariadb", "--no-defaults", f"--socket={self.socket}", "-uroot", "-N", "-e", statement],
            capture_output=True, text=True, check=True, timeout=30,
        )  # fmt: skip
        return done.stdout

    def _make_root(self) -> None:
        self.root.mkdir()
        for php in WORDPRESS.glob("*.php"):
            if php.name != "wp-config.php":
                shutil.copy2(php, self.root / php.name)
        for folder in ("wp-includes", "wp-admin"):
            (self.root / folder).symlink_to(WORDPRESS / folder)
        (self.content / "mu-plugins").mkdir(parents=True)
        (self.content / "plugins").mkdir()
        (self.content / "uploads").mkdir()
        (self.content / "themes").symlink_to(WORDPRESS / "wp-content" / "themes")
        (self.content / "mu-plugins" / "archiver-test-faults.php").write_text(_FAULT_PLUGIN)
        keys = "\n".join(
            f"define('{name}', '{base64.b64encode(os.urandom(24)).decode()}');"
            for name in ("AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT",
                         "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT")
        )  # fmt: skip
        (self.root / "wp-config.php").write_text(
            f"""<?php
define('DB_NAME', 'wordpress');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', 'localhost:{self.socket}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
define('WP_HOME', '{self.url}');
define('WP_SITEURL', '{self.url}');
define('WP_CONTENT_DIR', '{self.content}');
define('WP_ENVIRONMENT_TYPE', 'local');
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
{keys}
$table_prefix = 'wp_';
require_once ABSPATH . 'wp-settings.php';
"""
        )

    def start_server(self) -> None:
        env = {**os.environ, "PHP_CLI_SERVER_WORKERS": "4"}
        with open(self.dir / "php.log", "ab") as log:
            self._php = subprocess.Popen(
                ["php", "-S", f"127.0.0.1:{self.port}", "-t", str(self.root)],
                stdout=log,
                stderr=log,
                env=env,
                start_new_session=True,  # its workers are its own process group, stopped together
            )
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return
            if self._php.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("php -S did not start")
            time.sleep(0.05)

    def stop_server(self) -> None:
        if self._php is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._php.pid, signal.SIGTERM)
            self._php.wait(timeout=10)
            self._php = None
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # until the workers let go of the port
                try:
                    socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                except OSError:
                    return
                time.sleep(0.05)

    # --- PHP inside WordPress

    def php(self, code: str, *, installing: bool = False) -> str:
        """Run `code` inside WordPress (php-cli); what it echoes."""
        script = self.dir / "run.php"
        script.write_text(
            "<?php\n"
            "function wp_mail() { return true; }\n"  # no mail from the test site
            + ("define('WP_INSTALLING', true);\n" if installing else "")
            + f"$_SERVER['HTTP_HOST'] = '127.0.0.1:{self.port}';\n"
            f"require '{self.root}/wp-load.php';\n{code}\n"
        )
        done = subprocess.run(["php", str(script)], capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"PHP failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
        return done.stdout

    def _install(self) -> Editor:
        out = self.php(
            """
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
wp_install('Archiver test site', 'admin', 'admin@example.invalid', false, '', wp_generate_password(24));
$id = wp_insert_user(['user_login' => 'editor', 'user_pass' => wp_generate_password(24),
                      'user_email' => 'editor@example.invalid', 'role' => 'editor']);
list($password) = WP_Application_Passwords::create_new_application_password($id, ['name' => 'archiver']);
echo json_encode(['id' => $id, 'password' => $password]);
""",
            installing=True,
        )
        made = json.loads(out.strip().splitlines()[-1])
        return Editor(int(made["id"]), "editor", str(made["password"]))

    @staticmethod
    def _text(value: str) -> str:
        """A PHP expression for `value`, byte for byte."""
        return f"base64_decode('{base64.b64encode(value.encode()).decode()}')"

    def create_post(self, content: str, *, title: str = "A post", post_type: str = "post") -> int:
        out = self.php(
            f"wp_set_current_user({self.editor.id});\n"
            f"echo wp_insert_post(wp_slash(['post_title' => {self._text(title)}, 'post_content' => "
            f"{self._text(content)}, 'post_status' => 'publish', 'post_type' => '{post_type}', "
            f"'post_author' => {self.editor.id}]), true);"
        )
        return int(out.strip())

    def edit_post(self, post_id: int, content: str) -> None:
        """An editor's save, as the editor would make it (a new revision)."""
        self.php(
            f"wp_set_current_user({self.editor.id});\n"
            f"wp_update_post(wp_slash(['ID' => {post_id}, 'post_content' => {self._text(content)}]));"
        )

    def content_raw(self, post_id: int) -> str:
        """The post's content as stored, read inside WordPress (not through the REST API)."""
        out = self.php(f"clean_post_cache({post_id}); echo base64_encode(get_post({post_id})->post_content);")
        return base64.b64decode(out.strip()).decode()

    def age_posts(self) -> None:
        """Every post as if last saved a day ago (for incremental scans, which list recent saves)."""
        self.php(
            'global $wpdb; $wpdb->query("UPDATE $wpdb->posts SET post_modified = post_modified - '
            'INTERVAL 1 DAY, post_modified_gmt = post_modified_gmt - INTERVAL 1 DAY"); wp_cache_flush();'
        )

    def permalink(self, post_id: int) -> str:
        return self.php(f"echo get_permalink({post_id});").strip()

    def revisions(self, post_id: int) -> int:
        return int(self.php(f"echo count(wp_get_post_revisions({post_id}));").strip())

    def delete_post(self, post_id: int) -> None:
        self.php(f"wp_delete_post({post_id}, true);")

    def set_role(self, role: str) -> None:
        self.php(f"(new WP_User({self.editor.id}))->set_role('{role}');")

    def revoke_passwords(self) -> None:
        self.php(f"WP_Application_Passwords::delete_all_application_passwords({self.editor.id});")

    def new_password(self) -> str:
        out = self.php(
            f"list($p) = WP_Application_Passwords::create_new_application_password({self.editor.id}, "
            "['name' => 'archiver ' . wp_generate_password(6, false)]); echo $p;"
        )
        self.editor.password = out.strip()
        return self.editor.password

    def maintenance(self, on: bool) -> None:
        """WordPress's own maintenance mode (the `.maintenance` file an update writes)."""
        flag = self.root / ".maintenance"
        if on:
            flag.write_text("<?php $upgrading = time();\n")
        else:
            flag.unlink(missing_ok=True)

    def fault(self, on: bool) -> None:
        """A PHP fatal error in every REST request: WordPress answers 500."""
        flag = self.content / "mu-plugins" / "fault.flag"
        if on:
            flag.write_text("on")
        else:
            flag.unlink(missing_ok=True)
