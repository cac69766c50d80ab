// The TOML editor: targeted edits that keep every other byte, checked by parsing; refused where a
// text edit cannot be made safely.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DocumentSyntaxError } from '../../../src/extension/integrations/documentEdit';
import { tomlEditor } from '../../../src/extension/integrations/tomlEdit';

describe('tomlEditor', () => {
  it('replaces a top-level value in place, keeping its trailing comment and CRLF line ends', () => {
    const text = 'model_provider = "openai"  # mine\r\n[tui]\r\nnotifications = true\r\n';
    assert.equal(tomlEditor.set(text, ['model_provider'], 'isartor'), 'model_provider = "isartor"  # mine\r\n[tui]\r\nnotifications = true\r\n');
  });

  it('adds a top-level key before the first table (and its comment), never inside a table', () => {
    const text = 'model = "x"\n\n# tables\n[a."b/c"]\nk = 1\n';
    assert.equal(tomlEditor.set(text, ['model_provider'], 'isartor'), 'model = "x"\n\nmodel_provider = "isartor"\n# tables\n[a."b/c"]\nk = 1\n');
  });

  it('appends and removes a whole table, giving back the same bytes', () => {
    const text = 'model = "x"\n\n[profiles.p]\nmodel = "y"\n';
    const added = tomlEditor.set(text, ['model_providers', 'isartor'], { name: 'Isartor', base_url: 'http://127.0.0.1:1/r/x/v1', query_params: { 'api-version': 'v' } });
    assert.equal(added, `${text}\n[model_providers.isartor]\nname = "Isartor"\nbase_url = "http://127.0.0.1:1/r/x/v1"\nquery_params = { api-version = "v" }\n`);
    assert.equal(tomlEditor.remove(added, ['model_providers', 'isartor']), text);
    assert.equal(tomlEditor.remove(tomlEditor.set(text, ['model_provider'], 'isartor'), ['model_provider']), text);
  });

  it('refuses an edit a text change cannot make safely (model_providers written as an inline table)', () => {
    const text = 'model_providers = { other = { name = "o", base_url = "https://o/v1" } }\n';
    assert.throws(() => tomlEditor.set(text, ['model_providers', 'isartor'], { name: 'Isartor' }), DocumentSyntaxError);
  });
});
