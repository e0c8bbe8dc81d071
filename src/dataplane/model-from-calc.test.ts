import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ruleFromCalc } from './model-from-calc.js';
import { rule, side } from './testing-fixtures.js';

test('ruleFromCalc: named ports in notPorts reach the compiler on both sides', () => {
  const r = ruleFromCalc(
    rule({
      action: 'Allow',
      protocol: 6,
      source: side({ notNamedPortIpSetIds: ['n:src'] }),
      destination: side({ namedPortIpSetIds: ['n:pos'], notNamedPortIpSetIds: ['n:a', 'n:b'], notPorts: [{ first: 22, last: 22 }] }),
    }),
  );
  assert.deepEqual(r, {
    action: 'allow',
    protocol: 'tcp',
    notSrcNamedPortIpSetIds: ['n:src'],
    dstNamedPortIpSetIds: ['n:pos'],
    notDstPorts: [{ first: 22, last: 22 }],
    notDstNamedPortIpSetIds: ['n:a', 'n:b'],
  });
});

test('ruleFromCalc: empty notNamedPortIpSetIds adds no field', () => {
  const r = ruleFromCalc(rule({ action: 'Deny', protocol: 17 }));
  assert.deepEqual(r, { action: 'deny', protocol: 'udp' });
});
