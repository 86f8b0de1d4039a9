<?php
// Shared by the demo pages of one site (installed as HOME/demo-lib.php,
// outside the document root). docs/demo/demo.sh writes HOME/demo-sites.json
// next to it: every site of the demo, its account, user and URL.

function h($s) { return htmlspecialchars((string)$s, ENT_QUOTES, 'UTF-8'); }

// 1048576 -> "1 MiB", 8.8 MiB, 1 GiB
function mib($bytes) {
    foreach (['GiB' => 1 << 30, 'MiB' => 1 << 20, 'KiB' => 1 << 10] as $u => $n) {
        if ($bytes >= $n) {
            return preg_replace('/\.0$/', '', sprintf('%.1f', $bytes / $n)) . " $u";
        }
    }
    return "$bytes bytes";
}

// "8388608" or "8M" (PHP's ini sizes) -> bytes
function ini_bytes($v) {
    $v = trim((string)$v);
    $n = (float)$v;
    switch (strtoupper(substr($v, -1))) {
    case 'G': $n *= 1024;
    case 'M': $n *= 1024;
    case 'K': $n *= 1024;
    }
    return (int)$n;
}

function demo_sites() {
    static $sites = null;
    if ($sites === null) {
        $sites = json_decode(file_get_contents(__DIR__ . '/demo-sites.json'),
                             true);
    }
    return $sites;
}

// This site's entry (the vhost sets WLFDEMO_SITE).
function demo_site() {
    $name = $_SERVER['WLFDEMO_SITE'] ?? '';
    foreach (demo_sites()['sites'] as $s) {
        if ($s['name'] === $name) {
            return $s;
        }
    }
    return ['name' => $name, 'account' => '?', 'user' => '?', 'url' => '/'];
}

// The other account's name (alice <-> bob), for the cross-read.
function demo_other_account($account) {
    foreach (demo_sites()['sites'] as $s) {
        if ($s['account'] !== $account) {
            return $s['account'];
        }
    }
    return 'nobody';
}

function unix_user() {
    if (!function_exists('posix_geteuid')) {
        return ['?', -1];
    }
    $uid = posix_geteuid();
    $pw = posix_getpwuid($uid);
    return [$pw ? $pw['name'] : "#$uid", $uid];
}

function page_head($title) {
    $site = demo_site();
    echo "<!doctype html>\n<html lang=en><head><meta charset=utf-8>\n",
         '<title>', h($title), "</title>\n",
         "<style>body{font:15px/1.4 sans-serif;max-width:52em;margin:1em auto;",
         "padding:0 1em}h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em;",
         "border-bottom:1px solid #ccc}code,.v{font-family:monospace}",
         ".ok{color:#060}.no{color:#a00}dt{float:left;width:12em;clear:left;",
         "color:#555}dd{margin-left:12em}nav a{margin-right:1em}",
         "table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left}",
         "</style></head><body>\n<nav>", '<a href="', h(demo_sites()['index']),
         '">demo index</a>';
    foreach (demo_sites()['sites'] as $s) {
        $label = $s['name'] . ' (' . $s['account'] . ')';
        echo $s['name'] === $site['name'] ? '<b>' . h($label) . '</b> '
            : '<a href="' . h($s['url']) . '">' . h($label) . '</a>';
    }
    echo "</nav>\n";
}

function page_foot() {
    echo "\n<p><small>wlfcgi demo. Page generated at ", h(date('H:i:s')),
         " by PHP ", h(PHP_VERSION), ' (', h(PHP_SAPI), ', worker pid ',
         getmypid(), ").</small></p>\n</body></html>\n";
}
