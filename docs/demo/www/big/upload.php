<?php
// The same upload script; this location has WLFcgiMaxUpload (see the vhost).
require dirname(__DIR__) . '/upload.php';
