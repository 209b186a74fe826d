// Browser tests against a running demo-mode service (started by .ci/browser): Debian's
// chromium, driven by playwright-core (which never downloads a browser here: executablePath).
//
//   CIPP_BASE          the service, http://127.0.0.1:<port> (its CIPP_FRONTEND_DIR is ./site)
//   CIPP_TOKEN_URL, CIPP_CLIENT_ID, CIPP_CLIENT_SECRET, CIPP_SCOPE
//                      a demo client's credentials, as the service prints them (demo-client line)
//   NODE_EXTRA_CA_CERTS  the simulator's CA file, so this process can fetch the token
//   CHROMIUM           the browser (default /usr/bin/chromium)
//   SCREENSHOTS        where each step's screenshot goes (default target/browser-screenshots)
//
// Each step asserts on the page's text and saves a screenshot.

import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';

const base = process.env.CIPP_BASE;
const screenshots = process.env.SCREENSHOTS || path.resolve('../../target/browser-screenshots');
const timeout = 30_000;
let browser;

before(async () => {
  assert.ok(base, 'CIPP_BASE is set');
  await mkdir(screenshots, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // CI runs as root, where chromium's sandbox cannot start.
    args: ['--no-sandbox'],
  });
});

after(async () => {
  await browser?.close();
});

/// A fresh browser profile. The simulated Entra serves https with the demo's own CA, which
/// this profile does not know: certificate errors are ignored (for the simulator only; the
/// service itself is plain http on loopback).
async function newPage() {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  return page;
}

/// A screenshot of the viewport, or of one element of the page.
async function snap(page, name, element) {
  const file = path.join(screenshots, `${name}.png`);
  await (element ? element.screenshot({ path: file }) : page.screenshot({ path: file }));
}

async function demoToken() {
  const answer = await fetch(process.env.CIPP_TOKEN_URL, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: process.env.CIPP_CLIENT_ID,
      client_secret: process.env.CIPP_CLIENT_SECRET,
      scope: process.env.CIPP_SCOPE,
    }),
  });
  assert.equal(answer.status, 200, 'the simulated token endpoint issues a demo token');
  return (await answer.json()).access_token;
}

async function firstTenant(token) {
  const answer = await fetch(`${base}/api/ListTenants`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(answer.status, 200);
  return (await answer.json())[0].defaultDomainName;
}

test('Swagger UI works offline: authorize with a demo token and list a tenant\'s users', async () => {
  const token = await demoToken();
  const tenant = await firstTenant(token);
  const page = await newPage();
  // Swagger UI's files come from the service itself (the vendored feature): no request may
  // leave this machine.
  const external = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (!['127.0.0.1', 'localhost'].includes(url.hostname) && url.protocol !== 'data:') {
      external.push(request.url());
    }
  });
  await page.goto(`${base}/swagger-ui/`);
  await page.locator('.swagger-ui .info .title').waitFor();
  assert.match(await page.locator('.swagger-ui .info .title').innerText(), /CIPP/i);
  await snap(page, 'swagger-1-loaded');

  await page.locator('button.btn.authorize').first().click();
  await page.locator('.modal-ux input').first().fill(token);
  await page.locator('.modal-ux button.authorize').click();
  assert.match(await page.locator('.modal-ux').innerText(), /Authorized/);
  await snap(page, 'swagger-2-authorized');
  await page.locator('.modal-ux button.btn-done').click();

  const operation = page
    .locator('.opblock')
    .filter({ has: page.locator('.opblock-summary-path[data-path="/api/ListUsers"]') })
    .first();
  await operation.locator('.opblock-summary').first().click();
  await operation.locator('button.try-out__btn').click();
  await operation.locator('tr[data-param-name="tenantFilter"] input').fill(tenant);
  // Try-it-out fills in the documented examples; the whole tenant is wanted, not one user.
  for (const name of ['UserID', 'graphFilter']) {
    const input = operation.locator(`tr[data-param-name="${name}"] input`);
    if (await input.count()) await input.fill('');
  }
  await operation.locator('button.execute').click();
  const status = operation.locator('.live-responses-table tbody .response-col_status').first();
  await status.waitFor();
  assert.match(await status.innerText(), /200/);
  const body = operation.locator('.live-responses-table tbody .response-col_description').first();
  await body.locator('text=userPrincipalName').first().waitFor();
  const text = await body.innerText();
  const rows = text.match(/"userPrincipalName"/g) || [];
  assert.ok(rows.length > 1, `several users in the response panel, not ${rows.length}`);
  assert.match(text, new RegExp(tenant.replace(/\./g, '\\.')));
  await snap(page, 'swagger-3-list-users', operation);
  assert.deepEqual(external, [], 'Swagger UI loaded nothing from the internet');
  await page.context().close();
});

test('a demo user signs in through same-origin hosting and the page calls the API with its cookie', async () => {
  const page = await newPage();
  await page.goto(`${base}/`);
  await page.locator('#principal', { hasText: 'Not signed in' }).waitFor();
  await snap(page, 'sign-in-1-signed-out');

  // Sign in: to the simulated Entra's account picker, choose the editor.
  await page.locator('#sign-in-link').click();
  await page.locator('#user-editor').waitFor();
  assert.match(await page.locator('h1').innerText(), /Pick an account/);
  await snap(page, 'sign-in-2-account-picker');
  await page.locator('#user-editor').click();

  // Back on the page (the SPA fallback serves it at /users), signed in.
  await page.waitForURL(`${base}/users`);
  await page.locator('#principal', { hasText: 'Signed in as demo-editor@' }).waitFor();
  assert.match(await page.locator('#principal').innerText(), /editor/);
  await page.locator('#api-me', { hasText: 'API caller: demo-editor@' }).waitFor();
  await page.locator('#users tbody tr').first().waitFor();
  const rows = await page.locator('#users tbody tr').count();
  assert.ok(rows > 0, 'ListUsers answered rows');
  const firstUpn = await page.locator('#users tbody tr').first().locator('td').nth(1).innerText();
  assert.match(firstUpn, /@/);
  await snap(page, 'sign-in-3-users');

  // A row action, posted as JSON from this origin with the cookie.
  await page.locator('#users tbody tr').first().locator('button.revoke').click();
  await page.locator('#action-result', { hasText: 'ExecRevokeSessions' }).waitFor();
  const result = await page.locator('#action-result').innerText();
  assert.match(result, /ExecRevokeSessions 200: Successfully revoked sessions for/);
  assert.ok(result.includes(firstUpn), `${result} names ${firstUpn}`);
  await snap(page, 'sign-in-4-row-action');

  // The session cookie is HttpOnly: no script on the page can read it.
  assert.equal(await page.evaluate(() => document.cookie.includes('cipp_session')), false);

  // Sign out: the page is signed out again.
  await page.locator('#sign-out-link').click();
  await page.locator('#principal', { hasText: 'Not signed in' }).waitFor();
  await snap(page, 'sign-in-5-signed-out-again');
  await page.context().close();
});
