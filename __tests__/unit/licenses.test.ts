import { afterAll, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, sep } from 'node:path'
import {
  chunkModuleFiles,
  licenseName,
  packageDirs,
  packageOf,
  packagesNamedIn,
  parseLicenses,
  readLicenses,
  readmeLicenseSection,
  readPackageLicense,
  renderLicenses
} from '../../scripts/licenses.js'

const MIT = `MIT License

Copyright (c) 2024 Someone

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction.`

const root = mkdtempSync(join(tmpdir(), 'licenses-test-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** A package under root/node_modules with the given files. */
function fakePackage(name: string, manifest: Record<string, unknown>, files: Record<string, string>): string {
  const dir = join(root, 'node_modules', ...name.split('/'))
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.2.3', ...manifest }))
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text)
  return dir
}

describe('packageOf', () => {
  it('names the package a bundled file comes from, scoped or not', () => {
    expect(packageOf('/repo/node_modules/undici/lib/core/util.js')).toEqual({ dir: ['', 'repo', 'node_modules', 'undici'].join(sep), name: 'undici' })
    expect(packageOf('/repo/node_modules/@actions/core/lib/core.js')?.name).toBe('@actions/core')
  })

  it('takes the innermost package of a nested node_modules', () => {
    expect(packageOf('/repo/node_modules/a/node_modules/@s/b/index.js')?.name).toBe('@s/b')
  })

  it('reads Windows paths', () => {
    expect(packageOf('C:\\repo\\node_modules\\@actions\\io\\lib\\io.js')?.name).toBe('@actions/io')
  })

  it('is undefined for the project’s own files and for a bare node_modules path', () => {
    expect(packageOf('/repo/src/main.ts')).toBeUndefined()
    expect(packageOf('/repo/node_modules/@scope')).toBeUndefined()
  })
})

describe('chunkModuleFiles', () => {
  it('finds the modules of every chunk, a lazily loaded one included, and the parts of concatenated modules', () => {
    const stats = {
      chunks: [
        {
          files: ['index.js'],
          modules: [
            { nameForCondition: '/repo/src/index.ts' },
            { nameForCondition: '/repo/node_modules/node-fetch/src/index.js', modules: [{ nameForCondition: '/repo/node_modules/fetch-blob/index.js' }] },
            { nameForCondition: null, name: 'external "node:http"' }
          ]
        },
        { files: ['13.index.js'], modules: [{ nameForCondition: '/repo/node_modules/formdata-polyfill/esm.min.js' }] }
      ]
    }
    const packages = packageDirs(chunkModuleFiles(stats)).map((dir) => packageOf(`${dir}/x.js`)?.name)
    expect(packages.sort()).toEqual(['fetch-blob', 'formdata-polyfill', 'node-fetch'])
  })
})

describe('licenseName', () => {
  it('reads an SPDX string and the older object forms', () => {
    expect(licenseName({ license: 'Apache-2.0' })).toBe('Apache-2.0')
    expect(licenseName({ license: { type: 'BSD-3-Clause' } })).toBe('BSD-3-Clause')
    expect(licenseName({ licenses: [{ type: 'MIT' }, { type: 'GPL-2.0' }] })).toBe('(MIT OR GPL-2.0)')
    expect(licenseName({})).toBe('UNKNOWN')
  })
})

describe('readmeLicenseSection', () => {
  it('takes a Setext "License" section up to the next heading, without link definitions and entities decoded', () => {
    const readme = `# pkg\n\nUsage\n-----\n\ntext\n\nLicense\n-------\n\n(The MIT License)\n\nCopyright (c) 2014 A &lt;a@b.c&gt;\n\n${MIT}\n\n[rfc]: http://example.com\n`
    const section = readmeLicenseSection(readme)
    expect(section).toContain('Copyright (c) 2014 A <a@b.c>')
    expect(section).toContain('Permission is hereby granted')
    expect(section).not.toContain('[rfc]')
    expect(section).not.toContain('Usage')
  })

  it('takes an ATX "## License" section and stops at the next heading', () => {
    const section = readmeLicenseSection(`# pkg\n\n## Licence\n\n${MIT}\n\n## Changelog\n\n- 1.0\n`)
    expect(section?.startsWith('MIT License')).toBe(true)
    expect(section).not.toContain('Changelog')
  })

  it('refuses a section that only names the licence or links to it', () => {
    expect(readmeLicenseSection('# pkg\n\n## License\n\nMIT, see [LICENSE](LICENSE)\n')).toBeUndefined()
    expect(readmeLicenseSection('# pkg\n\nNothing about terms.\n')).toBeUndefined()
  })
})

describe('readPackageLicense', () => {
  it('reads LICENSE, and NOTICE when there is one, with CRLF made LF', () => {
    const dir = fakePackage('with-notice', { license: 'Apache-2.0' }, { 'LICENSE.txt': MIT.replace(/\n/g, '\r\n'), NOTICE: 'Includes work by X.\n', 'README.md': '# x' })
    const entry = readPackageLicense(dir)
    expect(entry).toMatchObject({ name: 'with-notice', version: '1.2.3', license: 'Apache-2.0', source: 'node_modules/with-notice/LICENSE.txt', notice: 'Includes work by X.' })
    expect(entry.text).toBe(MIT)
  })

  it('falls back to the README’s licence section when the package ships no licence file', () => {
    const dir = fakePackage('@s/readme-only', { license: 'MIT' }, { 'README.md': `# x\n\n## License\n\n${MIT}\n` })
    const entry = readPackageLicense(dir)
    expect(entry.source).toBe('node_modules/@s/readme-only/README.md (its licence section; the package ships no licence file)')
    expect(entry.text).toBe(MIT)
  })

  it('fails, naming the package, when there is no licence text at all', () => {
    const dir = fakePackage('no-terms', { license: 'MIT' }, { 'README.md': '# x\n\nMIT\n' })
    expect(() => readPackageLicense(dir)).toThrow('no-terms@1.2.3 (node_modules/no-terms) ships no licence text')
  })
})

describe('renderLicenses and parseLicenses', () => {
  it('list every package in name order, and read back what they listed', () => {
    const dirs = [fakePackage('zeta', { license: 'MIT' }, { LICENSE: MIT }), fakePackage('@a/alpha', { license: 'ISC' }, { 'LICENSE.md': MIT })]
    const text = renderLicenses(readLicenses(dirs))
    expect(text.indexOf('@a/alpha@1.2.3')).toBeLessThan(text.indexOf('zeta@1.2.3'))
    expect(parseLicenses(text)).toEqual([
      { name: '@a/alpha', version: '1.2.3', license: 'ISC', textLength: MIT.length },
      { name: 'zeta', version: '1.2.3', license: 'MIT', textLength: MIT.length }
    ])
  })

  it('reads an entry without text as such', () => {
    const text = renderLicenses([{ name: 'x', version: '1.0.0', license: 'MIT', source: 'node_modules/x/LICENSE', text: '' }])
    expect(parseLicenses(text)).toEqual([{ name: 'x', version: '1.0.0', license: 'MIT', textLength: 0 }])
  })

  it('finds nothing in a file of another format, such as the one ncc --license writes', () => {
    expect(parseLicenses(`node-fetch\nMIT\n${MIT}\n`)).toEqual([])
  })
})

describe('packagesNamedIn', () => {
  it('reads the package paths of webpack’s module comments, and nothing else', () => {
    const code = [
      '// EXTERNAL MODULE: ./node_modules/@actions/core/lib/core.js',
      ';// CONCATENATED MODULE: ./node_modules/node-fetch/src/body.js',
      ';// CONCATENATED MODULE: ../main/node_modules/a/node_modules/b/index.js',
      ';// CONCATENATED MODULE: ./src/main.ts',
      '// EXTERNAL MODULE: external "node:http"',
      'const hint = "install it in node_modules/other"'
    ].join('\n')
    expect(packagesNamedIn(code).sort()).toEqual(['@actions/core', 'b', 'node-fetch'])
  })
})
