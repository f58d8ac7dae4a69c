'use client';
// /join/<code>: the class's link, the code filled in (public: no token needed).
import { useParams } from 'next/navigation';
import { JoinForm } from '@/components/classroom/JoinForm';

export default function JoinWithCode() {
  const { code } = useParams<{ code: string }>();
  return <JoinForm initialCode={decodeURIComponent(code ?? '').slice(0, 6)} />;
}
