// The foundation through the UI: the Hailo activity-bar entry and its Models view, "Create
// Project File" from the command palette in an empty folder, the Getting Started walkthrough.
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { useWorkbench } from '../harness/e2e';
import { openActivity, runCommand, step, treeRows, viewPane, waitFor } from '../harness/workbench';
import { parseProjectText } from '../../src/core/project/load';

describe('e2e: example workspace', function () {
  const wb = useWorkbench({ workspace: 'example' });

  it('the Hailo activity-bar entry shows the Models view with the model and its files', async function () {
    await openActivity(wb.page, 'Hailo');
    const rows = await waitFor(
      async () => {
        const r = await treeRows(wb.page, 'Models');
        return r.length >= 5 ? r : undefined;
      },
      { what: 'five rows in the Models view', timeout: 20_000 },
    );
    await step(wb.page, 'example-models-view');
    assert.match(rows[0]!, /^whisper_tiny_encoder hailo8l · 1x80x3000$/);
    assert.match(rows[1]!, /^PyTorch tiny_whisper\/encoder\.py · present$/);
    assert.match(rows[2]!, /^ONNX build\/encoder\.onnx · present$/);
    assert.match(rows[3]!, /^HAR build\/encoder\.har · missing$/);
    assert.match(rows[4]!, /^HEF build\/encoder\.hef · missing$/);
    // the welcome content is only for folders without a project
    assert.equal(await viewPane(wb.page, 'Models').locator('.welcome-view-content').count(), 0);
  });

  it('the Getting Started walkthrough renders its steps', async function () {
    const page = await openWalkthrough(wb.page);
    await step(wb.page, 'example-walkthrough');
    // the first step is open, with its button and its markdown media
    const first = page.locator('.getting-started-step.expanded', { hasText: 'Create the project file' });
    await first.locator('.monaco-button', { hasText: 'Create Project File' }).waitFor({ timeout: 10_000 });
    // the step's markdown media renders in a webview (an iframe inside an iframe)
    const media = wb.page.frameLocator('.getting-started-media iframe').frameLocator('iframe#active-frame');
    await media.locator('body', { hasText: 'sits at the root of your workspace' }).waitFor({ state: 'attached', timeout: 15_000 });
    // hailo.json exists here: the first step is done
    await waitFor(async () => (await doneSteps(wb.page)).includes('Create the project file'), { what: 'step 1 done with hailo.json present' });
    // step descriptions have no raw markdown backticks
    const text = await page.locator('.getting-started-step').allInnerTexts();
    assert.ok(!text.join('\n').includes('`'), text.join('\n'));
  });
});

/** Open our walkthrough from the palette; returns the Getting Started editor. */
async function openWalkthrough(page: Page) {
  await runCommand(page, 'Welcome: Open Walkthrough...', { id: 'welcome.showAllWalkthroughs' });
  const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Get started with Hailo Workbench' }).first();
  await pick.waitFor({ timeout: 10_000 });
  await pick.click();
  const editor = page.locator('.gettingStartedContainer');
  await editor.locator('h2', { hasText: 'Get started with Hailo Workbench' }).first().waitFor({ timeout: 15_000 });
  for (const title of STEPS) await editor.locator('.getting-started-step', { hasText: title }).first().waitFor({ timeout: 10_000 });
  return editor;
}

const STEPS = [
  'Create the project file',
  'Add your PyTorch model',
  'Export to ONNX with source lines',
  'Read the Hailo lint',
  'Compile on a compile box',
  'See what the compiler rewrote',
  'Name your device',
];

/** Titles of the walkthrough steps marked done. */
async function doneSteps(page: Page): Promise<string[]> {
  const out: string[] = [];
  for (const title of STEPS) {
    const s = page.locator('.gettingStartedContainer .getting-started-step', { hasText: title }).first();
    if ((await s.locator('.codicon-getting-started-step-checked').count()) > 0) out.push(title);
  }
  return out;
}

describe('e2e: empty folder', function () {
  const wb = useWorkbench({ workspace: 'empty' });

  it('the walkthrough opens with no step done', async function () {
    // (opening it first also starts the walkthrough service, which only counts events from then on)
    await openWalkthrough(wb.page);
    assert.deepEqual(await doneSteps(wb.page), []);
    await step(wb.page, 'empty-walkthrough-new');
  });

  it('the Hailo view offers "Create Project File" and the palette command writes hailo.json', async function () {
    await openActivity(wb.page, 'Hailo');
    const welcome = viewPane(wb.page, 'Models').locator('.welcome-view-content');
    await welcome.waitFor({ timeout: 15_000 });
    assert.match(await welcome.innerText(), /No Hailo project in this folder yet/);
    await welcome.locator('a, .monaco-button', { hasText: 'Create Project File' }).first().waitFor();
    await step(wb.page, 'empty-welcome');

    await runCommand(wb.page, 'Hailo: Create Project File', { id: 'hailo.createProjectFile' });
    const file = path.join(wb.workspace, 'hailo.json');
    await waitFor(() => fs.existsSync(file), { what: file });
    const parsed = parseProjectText(fs.readFileSync(file, 'utf8'), file);
    assert.deepEqual(parsed.problems, []);
    // the editor opens the new file; it has no placeholder model, and the Models view says how to add one
    assert.deepEqual(parsed.project?.models, []);
    await wb.page.locator('.tabs-container .tab', { hasText: 'hailo.json' }).first().waitFor({ timeout: 10_000 });
    const noModel = viewPane(wb.page, 'Models').locator('.welcome-view-content', { hasText: 'No model in hailo.json yet' });
    await noModel.waitFor({ timeout: 15_000 });
    await step(wb.page, 'empty-created');
  });

  it('the walkthrough steps complete: project created, project file opened from its step', async function () {
    await openWalkthrough(wb.page);
    await waitFor(async () => (await doneSteps(wb.page)).includes('Create the project file'), { what: 'step 1 done' });
    // the device step's own button runs hailo.openProjectFile (completion event onCommand)
    const device = wb.page.locator('.gettingStartedContainer .getting-started-step', { hasText: 'Name your device' }).first();
    await device.click();
    await device.locator('.monaco-button', { hasText: 'Open Project File' }).click();
    await wb.page.locator('.tabs-container .tab.active', { hasText: 'hailo.json' }).first().waitFor({ timeout: 10_000 });
    await openWalkthrough(wb.page);
    await waitFor(async () => (await doneSteps(wb.page)).includes('Name your device'), { what: 'the device step done' });
    await step(wb.page, 'empty-walkthrough-done');
  });
});

describe('e2e: folder without hailo.json', function () {
  const wb = useWorkbench({ workspace: 'empty' });

  it('Targets and Runs show their welcome content, not a blank view', async function () {
    await openActivity(wb.page, 'Hailo');
    for (const view of ['Targets', 'Runs']) {
      const pane = viewPane(wb.page, view);
      // a collapsed pane shows nothing: open it
      const header = pane.locator('.pane-header');
      if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
      const welcome = pane.locator('.welcome-view-content');
      await welcome.waitFor({ timeout: 15_000 });
      assert.match(await welcome.innerText(), /project file \(hailo\.json\)/);
    }
    await step(wb.page, 'empty-targets-runs-welcome');
  });
});
