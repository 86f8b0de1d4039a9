"""PHP scripts the module tests install into the accounts' docroots."""

# ini values come from ini_get_all(): OPcache's optimizer replaces
# ini_get('literal') of settings scripts cannot change (PHP_INI_SYSTEM,
# PHP_INI_PERDIR: post_max_size, auto_prepend_file, ...) by the value they
# had when the script was compiled, which may be another request's.
INFO = r"""<?php
header('Content-Type: application/json');
$u = posix_getpwuid(posix_geteuid());
$ini = ini_get_all(null, false);
echo json_encode([
    'user' => $u['name'],
    'pid' => getmypid(),
    'open_basedir' => $ini['open_basedir'],
    'memory_limit' => $ini['memory_limit'],
    'auto_prepend_file' => $ini['auto_prepend_file'],
    'upload_max_filesize' => $ini['upload_max_filesize'],
    'post_max_size' => $ini['post_max_size'],
    'calendar' => extension_loaded('calendar'),
    'hostname_readable' => @is_readable('/etc/hostname'),
    'php_value' => $_SERVER['PHP_VALUE'] ?? null,
    'php_admin_value' => $_SERVER['PHP_ADMIN_VALUE'] ?? null,
    'script_name' => $_SERVER['SCRIPT_NAME'] ?? null,
    'script_filename' => $_SERVER['SCRIPT_FILENAME'] ?? null,
    'path_info' => $_SERVER['PATH_INFO'] ?? null,
    'path_translated' => $_SERVER['PATH_TRANSLATED'] ?? null,
    'query_string' => $_SERVER['QUERY_STRING'] ?? null,
    'request_uri' => $_SERVER['REQUEST_URI'] ?? null,
    'php_self' => $_SERVER['PHP_SELF'] ?? null,
    'https' => $_SERVER['HTTPS'] ?? null,
    'document_root' => $_SERVER['DOCUMENT_ROOT'] ?? null,
    'server_name' => $_SERVER['SERVER_NAME'] ?? null,
]);
"""

# APCu store/fetch/list: ?op=store&k=K&v=V, ?op=fetch&k=K, ?op=keys
APCU = r"""<?php
header('Content-Type: application/json');
$op = $_GET['op'] ?? '';
$out = ['op' => $op, 'pid' => getmypid()];
if ($op === 'store') {
    $out['ok'] = apcu_store($_GET['k'], $_GET['v']);
} elseif ($op === 'fetch') {
    $v = apcu_fetch($_GET['k'], $ok);
    $out['ok'] = $ok;
    $out['value'] = $ok ? $v : null;
} elseif ($op === 'keys') {
    $info = apcu_cache_info();
    $out['keys'] = array_map(fn($e) => $e['info'], $info['cache_list']);
}
echo json_encode($out);
"""

# Reports what PHP received: files (size, sha256), or the raw body of a
# PUT/POST read from php://input (bytes, sha256), and the limits in force.
UPLOAD = r"""<?php
header('Content-Type: application/json');
$ini = ini_get_all(null, false);
$out = [
    'pid' => getmypid(),
    'method' => $_SERVER['REQUEST_METHOD'],
    'content_length' => $_SERVER['CONTENT_LENGTH'] ?? null,
    'upload_max_filesize' => $ini['upload_max_filesize'],
    'post_max_size' => $ini['post_max_size'],
    'php_admin_value' => $_SERVER['PHP_ADMIN_VALUE'] ?? null,
    'request_uri' => $_SERVER['REQUEST_URI'] ?? null,
    'script_name' => $_SERVER['SCRIPT_NAME'] ?? null,
    'files' => [],
];
foreach ($_FILES as $k => $f) {
    $out['files'][$k] = [
        'size' => $f['size'],
        'error' => $f['error'],
        'sha256' => $f['error'] === 0 ? hash_file('sha256', $f['tmp_name'])
                                      : null,
    ];
}
if (empty($_FILES)) {
    $hash = ($_GET['mode'] ?? '') !== 'count';
    $in = fopen('php://input', 'rb');
    $ctx = hash_init('sha256');
    $n = 0;
    while (!feof($in)) {
        $b = fread($in, 1 << 20);
        if ($b === false || $b === '') {
            break;
        }
        $n += strlen($b);
        if ($hash) {
            hash_update($ctx, $b);
        }
    }
    $out['input_bytes'] = $n;
    $out['input_sha256'] = $hash ? hash_final($ctx) : null;
}
echo json_encode($out);
"""

# Streams php://input to a file in the account's tmp dir (the upload
# tests and bench/upload.py).
SINK = r"""<?php
$dir = ini_get('upload_tmp_dir') ?: sys_get_temp_dir();
$path = tempnam($dir, 'sink');
$in = fopen('php://input', 'rb');
$out = fopen($path, 'wb');
$n = stream_copy_to_stream($in, $out);
fclose($out);
unlink($path);
echo $n, "\n";
"""

HELLO = "<?php echo 'ok';\n"

# Everything PHP has in $_SERVER, as JSON
SERVER = r"""<?php
header('Content-Type: application/json');
echo json_encode($_SERVER);
"""
