// CloudFront Function (runtime cloudfront-js-2.0), viewer-request event of the
// dashboard distribution.  Loaded by terraform (file()) and by
// terraform/tests/cloudfront-function.test.js, so keep it free of module
// syntax: CloudFront evaluates the file as a plain script and calls handler().
//
// 1. Canonical host: any "www.<apex>" host is answered with a 301 to
//    https://<apex> with the same path and query string, so caches, cookies
//    and the CSP see one origin.  Other hosts pass through untouched.
// 2. Single-page app routes: an extensionless path ("/surface/BTC") is served
//    index.html; files ("/assets/app-3f2a.js") and "/" are left alone (the
//    distribution's default root object handles "/").

var WWW_PREFIX = 'www.';

// CloudFront hands query values as received; re-encode them canonically so a
// value is neither double-encoded nor emitted raw.
function encodeQueryValue(value) {
  try {
    return encodeURIComponent(decodeURIComponent(value));
  } catch (e) {
    return encodeURIComponent(value);
  }
}

function queryString(querystring) {
  var parts = [];
  var keys = Object.keys(querystring || {});
  for (var i = 0; i < keys.length; i++) {
    var key = keys[i];
    var entry = querystring[key];
    var values = entry.multiValue && entry.multiValue.length
      ? entry.multiValue.map(function (v) { return v.value; })
      : [entry.value];
    for (var j = 0; j < values.length; j++) {
      var v = values[j];
      var k = encodeQueryValue(key);
      parts.push(v === undefined || v === null || v === '' ? k : k + '=' + encodeQueryValue(v));
    }
  }
  return parts.length ? '?' + parts.join('&') : '';
}

function handler(event) {
  var request = event.request;
  var hostHeader = request.headers.host;
  var host = hostHeader && hostHeader.value ? hostHeader.value.toLowerCase() : '';

  if (host.indexOf(WWW_PREFIX) === 0 && host.length > WWW_PREFIX.length) {
    var location = 'https://' + host.substring(WWW_PREFIX.length) + request.uri +
      queryString(request.querystring);
    return {
      statusCode: 301,
      statusDescription: 'Moved Permanently',
      headers: {
        location: { value: location },
        'cache-control': { value: 'max-age=3600' },
      },
    };
  }

  var uri = request.uri || '/';
  var last = uri.substring(uri.lastIndexOf('/') + 1);
  if (uri !== '/' && last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
