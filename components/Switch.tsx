'use client';
/** disabled: the reason it cannot be changed (shown under the label) */
export function Switch({ checked, onChange, label, hint, danger, testId, disabled }: { checked: boolean; onChange: (v: boolean) => void; label: string; hint?: string; danger?: boolean; testId?: string; disabled?: string }) {
  return (
    <label className={`flex items-start gap-3 py-1.5 ${disabled ? 'cursor-not-allowed' : 'cursor-pointer'}`}>
      <button
        type="button"
        role="switch"
        aria-checked={checked}
        aria-label={label}
        aria-disabled={disabled ? true : undefined}
        disabled={!!disabled}
        data-testid={testId}
        onClick={() => onChange(!checked)}
        className={`relative mt-0.5 inline-flex h-5 w-9 shrink-0 items-center rounded-full transition disabled:opacity-50 ${checked ? (danger ? 'bg-rose-500' : 'bg-sky-500') : 'bg-slate-700'}`}
      >
        <span className={`inline-block h-4 w-4 rounded-full bg-white shadow transition ${checked ? 'translate-x-4.5' : 'translate-x-0.5'}`} />
      </button>
      <span className="min-w-0">
        <span className={`block text-sm font-medium ${danger && checked ? 'text-rose-300' : 'text-slate-200'}`}>{label}</span>
        {hint && <span className="block text-xs text-slate-400">{hint}</span>}
        {disabled && <span className="block text-xs text-amber-300">{disabled}</span>}
      </span>
    </label>
  );
}
