import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeRedisError } from '../../src/core/store/redisConnection';

const coded = (message: string, code: string): Error => Object.assign(new Error(message), { code });

test('an untrusted certificate is named as such, with the way to trust it', () => {
  const text = describeRedisError(coded('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'), 'rediss://default:pw@cache.internal:6380');
  assert.match(text, /^certificate of cache\.internal:6380 not trusted \(self-signed certificate in certificate chain\)/);
  assert.match(text, /NODE_EXTRA_CA_CERTS/);
});

test('a refused login says so, without the password', () => {
  const text = describeRedisError(new Error('WRONGPASS invalid username-password pair or user is disabled.'), 'rediss://team:s3cret%21@cache.internal');
  assert.match(text, /^Redis at cache\.internal:6379 refused the login \(WRONGPASS/);
  assert.match(describeRedisError(new Error('NOAUTH Authentication required.'), 'redis://cache.internal'), /refused the login/);
});

test('the URL password never comes back, raw or decoded, whatever the message holds', () => {
  for (const url of ['redis://u:s3cret%21x@h:1', 'redis://u:plainpw@h:1']) {
    const password = new URL(url).password;
    const text = describeRedisError(new Error(`odd failure mentioning ${password} and ${decodeURIComponent(password)}`), url);
    assert.ok(!text.includes(password) && !text.includes(decodeURIComponent(password)), text);
    assert.match(text, /\*\*\*/);
  }
});

test('other errors keep their own message', () => {
  assert.equal(describeRedisError(coded('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED'), 'redis://127.0.0.1:1'), 'connection to 127.0.0.1:1 refused');
  assert.equal(describeRedisError(new Error('Socket closed unexpectedly'), 'redis://h'), 'Socket closed unexpectedly');
});
