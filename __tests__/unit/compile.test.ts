import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { arrangeFactories, onFirstUse } from '../../scripts/compile.js'

/** A webpack-style main file, as terser leaves it: a modules object, a require, and an entry that uses module 2. */
const BUNDLE = `var mods={1:(e,t,r)=>{globalThis.__ran.push(1);e.exports={answer:42,hello:()=>"hi"}},2:(e,t,r)=>{globalThis.__ran.push(2);const lib=r(1);e.exports={later:()=>lib.answer}},3:(e,t,r)=>{globalThis.__ran.push(3);e.exports=7}};var cache={};function req(id){if(cache[id])return cache[id].exports;const m=cache[id]={exports:{}};mods[id](m,m.exports,req);return m.exports}globalThis.__entry=req(2);`

/** Runs a bundle's text and returns what it left behind: the modules that ran, and the entry's exports. */
function load(code: string): { ran: number[]; entry: { later: () => number } } {
  const scope = globalThis as unknown as { __ran: number[]; __entry: { later: () => number } }
  scope.__ran = []
  new Function(code)()
  return { ran: scope.__ran, entry: scope.__entry }
}

describe('arrangeFactories', () => {
  it('parenthesizes every module function, so that V8 compiles it at once', () => {
    const arranged = arrangeFactories(BUNDLE)
    expect(arranged).toContain('1:((e,t,r)=>{')
    expect(arranged).toContain('3:((e,t,r)=>{')
    expect(load(arranged).ran).toEqual([2, 1])
  })

  it("leaves a lazy package's modules bare, and runs its door only when an export is first read", () => {
    const arranged = arrangeFactories(BUNDLE, { ids: new Set(['1']), door: '1' })
    expect(arranged).toContain('3:((e,t,r)=>{')
    const { ran, entry } = load(arranged)
    // module 2 required module 1, but read nothing from it yet
    expect(ran).toEqual([2])
    expect(entry.later()).toBe(42)
    expect((globalThis as unknown as { __ran: number[] }).__ran).toEqual([2, 1])
    // and once only
    expect(entry.later()).toBe(42)
    expect((globalThis as unknown as { __ran: number[] }).__ran).toEqual([2, 1])
  })

  it('fails the build when the door is not in the modules object', () => {
    expect(() => arrangeFactories(BUNDLE, { ids: new Set(['9']), door: '9' })).toThrow(/module 9 is not in the main file/)
  })
})

describe('onFirstUse', () => {
  it('stands in for every way of reading the exports: a key, `in`, the keys, a descriptor', () => {
    let runs = 0
    const define = new Function('counter', `return ${onFirstUse('(e,t,r)=>{counter();e.exports={a:1,b:r("x")}}')}`)(() => runs++) as (
      module: { exports: unknown },
      exports: unknown,
      require: (id: string) => unknown
    ) => void
    const module = { exports: {} as Record<string, unknown> }
    define(module, module.exports, (id) => `required ${id}`)
    expect(runs).toBe(0)
    expect(module.exports.b).toBe('required x')
    expect('a' in module.exports).toBe(true)
    expect(Object.keys(module.exports)).toEqual(['a', 'b'])
    expect({ ...module.exports }).toEqual({ a: 1, b: 'required x' })
    expect(runs).toBe(1)
  })
})

describe('dist/index.js', () => {
  it("carries undici behind one door, so that a run that needs no proxy never runs it", () => {
    const main = readFileSync('dist/index.js', 'utf8')
    expect(main.match(/real=\{exports:\{\}\}/g)).toHaveLength(1)
  })
})
