<?php
// The page of one demo site: who runs its PHP, the account's APCu counter
// that all its sites share, a read of the other account's key, the
// account's cache usage and two upload forms.
require dirname(__DIR__) . '/demo-lib.php';

$site = demo_site();
$account = $site['account'];
$other = demo_other_account($account);
[$user, $uid] = unix_user();

// APCu: one counter for the whole account, one per site, and a secret
apcu_add("$account:counter", 0);
$counter = apcu_inc("$account:counter");
apcu_add("$account:views:{$site['name']}", 0);
apcu_inc("$account:views:{$site['name']}");
apcu_add("$account:secret", "$account's secret, stored by {$site['name']} at "
         . date('H:i:s'));
$foreign_key = "$other:secret";
$foreign = apcu_fetch($foreign_key, $found);

$keys = [];
$info = apcu_cache_info(false);
foreach ($info['cache_list'] as $e) {
    $keys[] = $e['info'];
}
sort($keys);
$sma = apcu_sma_info(true);
$apcu_total = $sma['num_seg'] * $sma['seg_size'];
$apcu_used = $apcu_total - $sma['avail_mem'];

$op = function_exists('opcache_get_status') ? opcache_get_status(true) : false;

page_head("{$site['name']} - wlfcgi demo");
?>
<h1><?= h($site['name']) ?></h1>
<p>A site of account <b><?= h($account) ?></b>. httpd sends its PHP, through
its own mod_proxy_fcgi, to the account's own php-fpm instance; mod_wlfcgi
picked it from the vhost's <code>ServerName</code>.</p>

<h2>Who runs this PHP</h2>
<dl>
<dt>Unix user</dt><dd class=v id=user><?= h($user) ?></dd>
<dt>uid</dt><dd class=v id=uid><?= h($uid) ?></dd>
<dt>account</dt><dd class=v id=account><?= h($account) ?></dd>
<dt>open_basedir</dt><dd class=v id=open_basedir><?= h(ini_get('open_basedir')) ?></dd>
<dt>reads /etc/passwd</dt><dd class=v id=etc_passwd><?= @is_readable('/etc/passwd') ? 'yes' : 'no' ?></dd>
</dl>
<?php if (is_readable(__DIR__ . '/.htaccess')): ?>
<p>This site's <code>.htaccess</code> tries what a curious customer might:
send its PHP to the other account's socket and lift
<code>open_basedir</code>. In a stock <code>SetHandler "proxy:unix:..."</code>
setup both work. mod_wlfcgi undoes them: the lines above are what is in
effect.</p>
<pre id=htaccess><?= h(file_get_contents(__DIR__ . '/.htaccess')) ?></pre>
<?php endif ?>

<h2>APCu: shared by all sites of account <?= h($account) ?></h2>
<p>Counter <code><?= h("$account:counter") ?></code>:
<b id=counter><?= h($counter) ?></b> (this page view added one).
Views per site, from the same APCu:</p>
<table>
<?php foreach (demo_sites()['sites'] as $s): if ($s['account'] !== $account) continue; ?>
<tr><td><?= h($s['name']) ?></td><td class=v id="views-<?= h($s['name']) ?>"><?= h((int)apcu_fetch("$account:views:{$s['name']}")) ?></td></tr>
<?php endforeach ?>
</table>

<h2>The other account's data</h2>
<p><code>apcu_fetch('<?= h($foreign_key) ?>')</code>:
<?php if ($found): ?>
<b class=no id=foreign>FOUND: <?= h($foreign) ?></b>
<?php else: ?>
<b class=ok id=foreign>not found</b> (<?= h($other) ?>'s sites put it there on their first
visit, in <?= h($other) ?>'s own php-fpm master; this master's APCu has
never seen it).
<?php endif ?></p>
<p>Keys this PHP can see: <span class=v id=keys><?= h(implode(', ', $keys)) ?></span></p>

<h2>Caches of account <?= h($account) ?></h2>
<dl>
<?php if ($op): $m = $op['memory_usage']; ?>
<dt>OpCache</dt><dd id=opcache><?= h(mib($m['used_memory'])) ?> used of
<?= h(mib($m['used_memory'] + $m['free_memory'] + $m['wasted_memory'])) ?>,
<?= h($op['opcache_statistics']['num_cached_scripts']) ?> scripts,
hit rate <?= h(sprintf('%.0f%%', $op['opcache_statistics']['opcache_hit_rate'])) ?></dd>
<dt>cached scripts</dt><dd class=v id=scripts><?= h(implode(', ', array_map(fn($p) => str_replace(dirname(__DIR__, 2) . '/', '', $p), array_keys($op['scripts'] ?? [])))) ?></dd>
<?php else: ?>
<dt>OpCache</dt><dd id=opcache>off</dd>
<?php endif ?>
<dt>APCu</dt><dd id=apcu><?= h(mib($apcu_used)) ?> used of <?= h(mib($apcu_total)) ?>,
<?= h(count($keys)) ?> entries</dd>
</dl>
<p><small>Both caches belong to the account's php-fpm master: every site of
<?= h($account) ?> fills and sees them, no other account can. Their sizes
are <code>opcache_memory</code> and <code>apcu_memory</code> of the account
(<code>fpmctl set <?= h($account) ?> apcu_memory=64M</code>).</small></p>

<h2>Uploads</h2>
<?php
$small = ini_bytes(ini_get('post_max_size'));
$big = $_SERVER['WLFDEMO_BIG_LIMIT'] ?? '?';
foreach ([['upload.php', 'small', 'the account\'s max_upload: ' . mib($small)],
          ['big/upload.php', 'big', "<Location /big> WLFcgiMaxUpload $big"]]
         as [$action, $id, $limit]):
    $last = apcu_fetch("$account:upload:{$site['name']}:$id");
?>
<form method=post enctype="multipart/form-data" action="<?= h($action) ?>" id="form-<?= $id ?>">
<p><b>/<?= h($action) ?></b> (limit: <?= h($limit) ?>)<br>
<input type=file name=file> <button>Upload</button><br>
<small>last upload here: <span id="last-<?= $id ?>"><?= $last ? h($last) : 'none yet' ?></span></small></p>
</form>
<?php endforeach ?>
<p><small>Try a file of 20 MiB in both: the first gets 413 from httpd before
any of it is read, the second is streamed to PHP. Make one with
<code>head -c 20M /dev/urandom &gt; 20M.bin</code>.</small></p>
<?php page_foot();
