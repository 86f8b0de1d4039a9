<?php
// Receives one upload and says what happened to it. The same script runs
// as /upload.php (the account's limit) and /big/upload.php (the location's
// WLFcgiMaxUpload): mod_wlfcgi sends each request its own limit.
require dirname(__DIR__) . '/demo-lib.php';

$site = demo_site();
$account = $site['account'];
$id = basename(dirname($_SERVER['SCRIPT_FILENAME'])) === 'big' ? 'big' : 'small';
$t = microtime(true) - $_SERVER['REQUEST_TIME_FLOAT'];
$limit = ini_get('post_max_size');
$errors = [
    UPLOAD_ERR_INI_SIZE => 'larger than upload_max_filesize',
    UPLOAD_ERR_FORM_SIZE => 'larger than MAX_FILE_SIZE',
    UPLOAD_ERR_PARTIAL => 'only partly received',
    UPLOAD_ERR_NO_FILE => 'no file chosen',
    UPLOAD_ERR_NO_TMP_DIR => 'no temporary directory',
    UPLOAD_ERR_CANT_WRITE => 'could not be written',
    UPLOAD_ERR_EXTENSION => 'stopped by an extension',
];

$ok = false;
if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
    $result = 'nothing uploaded (use the form)';
} elseif (!isset($_FILES['file'])) {
    $result = 'refused: PHP received no file (the body was over post_max_size)';
} elseif ($_FILES['file']['error'] !== UPLOAD_ERR_OK) {
    $result = 'refused: ' . ($errors[$_FILES['file']['error']] ?? 'error '
                             . $_FILES['file']['error']);
} else {
    $ok = true;
    $f = $_FILES['file'];
    $result = sprintf('accepted: %d bytes (%s) in %.2f s', $f['size'],
                      mib($f['size']), $t);
}
if ($_SERVER['REQUEST_METHOD'] === 'POST') {
    apcu_store("$account:upload:{$site['name']}:$id",
               date('H:i:s') . " $result");
}
[$user] = unix_user();

page_head("upload - {$site['name']}");
?>
<h1>Upload to /<?= $id === 'big' ? 'big/' : '' ?>upload.php</h1>
<p id=result class="<?= $ok ? 'ok' : 'no' ?>"><?= h($result) ?></p>
<dl>
<dt>file name</dt><dd class=v><?= h($_FILES['file']['name'] ?? '-') ?></dd>
<dt>limit in this request</dt><dd class=v id=limit>post_max_size=<?= h($limit) ?>
 (<?= h(mib(ini_bytes($limit))) ?>), upload_max_filesize=<?= h(ini_get('upload_max_filesize')) ?></dd>
<dt>stored by PHP in</dt><dd class=v><?= h(ini_get('upload_tmp_dir')) ?> (the account's own)</dd>
<dt>PHP ran as</dt><dd class=v id=user><?= h($user) ?></dd>
</dl>
<p>A body over the limit never reaches PHP: httpd answers 413 before
reading it. <a href="<?= h($site['url']) ?>">Back to <?= h($site['name']) ?></a></p>
<?php page_foot();
